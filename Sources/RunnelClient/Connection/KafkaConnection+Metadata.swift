public import RunnelProtocol

/// One topic as Metadata reports it.
public struct TopicMetadata: Sendable, Equatable {
    public struct Partition: Sendable, Equatable {
        public var index: Int32
        public var leaderId: Int32
        public var replicas: [Int32]
        public var isr: [Int32]
        public var errorCode: KafkaErrorCode
    }

    public var name: String
    public var topicId: KafkaUUID
    public var isInternal: Bool
    /// Sorted by index.
    public var partitions: [Partition]

    public var partitionCount: Int32 { Int32(partitions.count) }
}

extension KafkaConnection {
    /// A Metadata request for `topics` (nil = every topic).
    public func metadata(topics: [String]?, allowAutoTopicCreation: Bool = false) async throws(ClientError)
        -> MetadataResponse
    {
        let version = try version(for: .metadata)
        // Before v4 the broker always auto-creates (when allowed); the field exists from v4 on.
        let request = MetadataRequest(
            topics: topics?.map { MetadataRequest.MetadataRequestTopic(name: $0) },
            allowAutoTopicCreation: version >= 4 ? allowAutoTopicCreation : true)
        return try await send(request, version: version)
    }

    /// The metadata of one topic, waiting briefly while a just-created topic reports LEADER_NOT_AVAILABLE.
    /// - Throws: ``ClientError/unknownTopic(_:)`` when it does not exist (and was not auto-created).
    public func topicMetadata(_ topic: String, allowAutoTopicCreation: Bool = false) async throws(ClientError)
        -> TopicMetadata
    {
        var attempt = 0
        while true {
            let response = try await metadata(topics: [topic], allowAutoTopicCreation: allowAutoTopicCreation)
            guard let entry = response.topics.first(where: { $0.name == topic }) else { throw .unknownTopic(topic) }
            let code = KafkaErrorCode(rawValue: entry.errorCode)
            if code == .none, !entry.partitions.isEmpty { return Self.topicMetadata(entry) }
            if code == .unknownTopicOrPartition, !allowAutoTopicCreation { throw .unknownTopic(topic) }
            attempt += 1
            if attempt >= 20 || !(code.isRetriable || code == .none) {
                if code == .unknownTopicOrPartition { throw .unknownTopic(topic) }
                throw .broker(operation: "Metadata for \(topic)", code: code, message: nil)
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    static func topicMetadata(_ entry: MetadataResponse.MetadataResponseTopic) -> TopicMetadata {
        TopicMetadata(
            name: entry.name ?? "", topicId: entry.topicId, isInternal: entry.isInternal,
            partitions: entry.partitions.map {
                TopicMetadata.Partition(
                    index: $0.partitionIndex, leaderId: $0.leaderId, replicas: $0.replicaNodes, isr: $0.isrNodes,
                    errorCode: KafkaErrorCode(rawValue: $0.errorCode))
            }.sorted { $0.index < $1.index })
    }
}
