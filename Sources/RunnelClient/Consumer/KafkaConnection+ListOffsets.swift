internal import RunnelProtocol

/// An offset answered by ListOffsets.
public struct ListedOffset: Sendable, Equatable {
    /// -1 when no record matches a timestamp query.
    public var offset: Int64
    /// The matching record's timestamp for timestamp queries, else -1.
    public var timestamp: Int64
}

extension KafkaConnection {
    /// Kafka's ListOffsets sentinel timestamps.
    public static let earliestTimestamp: Int64 = -2
    public static let latestTimestamp: Int64 = -1

    /// ListOffsets for each partition at `timestamp` (-2 earliest, -1 latest, else the first offset whose
    /// timestamp is >= it).
    /// - Throws: the first partition error (``ClientError/unknownTopic(_:)`` for UNKNOWN_TOPIC_OR_PARTITION).
    public func listOffsets(_ partitions: [TopicPartition], timestamp: Int64) async throws(ClientError)
        -> [TopicPartition: ListedOffset]
    {
        guard !partitions.isEmpty else { return [:] }
        var byTopic: [String: [Int32]] = [:]
        for tp in partitions { byTopic[tp.topic, default: []].append(tp.partition) }
        let request = ListOffsetsRequest(
            replicaId: -1, isolationLevel: 0,
            topics: byTopic.sorted { $0.key < $1.key }.map { topic, indices in
                .init(name: topic, partitions: indices.map { .init(partitionIndex: $0, timestamp: timestamp) })
            })
        let response = try await send(request)
        var result: [TopicPartition: ListedOffset] = [:]
        for topic in response.topics {
            for partition in topic.partitions {
                let code = KafkaErrorCode(rawValue: partition.errorCode)
                if code == .unknownTopicOrPartition { throw .unknownTopic(topic.name) }
                guard code == .none else {
                    throw .broker(
                        operation: "ListOffsets for \(topic.name)/\(partition.partitionIndex)", code: code, message: nil
                    )
                }
                result[TopicPartition(topic: topic.name, partition: partition.partitionIndex)] =
                    ListedOffset(offset: partition.offset, timestamp: partition.timestamp)
            }
        }
        return result
    }
}
