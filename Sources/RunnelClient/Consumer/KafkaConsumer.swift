internal import NIOCore
internal import RunnelProtocol
internal import RunnelRecords

/// Reads assigned partitions directly (no consumer group): ``assign(_:)`` resolves start positions with
/// ListOffsets, ``poll()`` sends one Fetch for every assigned partition and returns the records at or after each
/// partition's position, in offset order per partition.
///
/// Batches are decoded here: control batches (transaction markers) are skipped, records below the position (a
/// fetch returns whole batches, so the first batch may start earlier) are dropped, and the position moves past
/// the last batch returned. High watermarks are tracked so a caller can stop at the end (``isAtEnd``).
///
/// An actor: positions are serial state; callers normally drive it from one task.
public actor KafkaConsumer {
    public let configuration: ConsumerConfiguration
    public let connection: KafkaConnection
    private let ownsConnection: Bool
    private var positions: [TopicPartition: Int64] = [:]
    private var highWatermarks: [TopicPartition: Int64] = [:]
    private var assignmentOrder: [TopicPartition] = []

    public init(connection: KafkaConnection, configuration: ConsumerConfiguration = .init()) {
        self.init(connection: connection, ownsConnection: false, configuration: configuration)
    }

    private init(connection: KafkaConnection, ownsConnection: Bool, configuration: ConsumerConfiguration) {
        self.connection = connection
        self.ownsConnection = ownsConnection
        self.configuration = configuration
    }

    /// Connects to `bootstrap`; the consumer owns (and ``close()`` closes) the connection.
    public static func connect(
        to bootstrap: BrokerAddress, configuration: ConsumerConfiguration = .init(),
        clientId: String = "runnel-consumer"
    ) async throws(ClientError) -> KafkaConsumer {
        let connection = try await KafkaConnection.connect(to: bootstrap, clientId: clientId)
        return KafkaConsumer(connection: connection, ownsConnection: true, configuration: configuration)
    }

    /// The partitions of `topic`, sorted.
    /// - Throws: ``ClientError/unknownTopic(_:)``.
    public func partitions(of topic: String) async throws(ClientError) -> [Int32] {
        try await connection.topicMetadata(topic).partitions.map(\.index)
    }

    /// Adds partitions (or moves existing ones) to start positions.
    public func assign(_ starts: [TopicPartition: StartOffset]) async throws(ClientError) {
        let resolved = try await resolve(starts)
        for (tp, offset) in resolved.positions {
            if positions[tp] == nil { assignmentOrder.append(tp) }
            positions[tp] = offset
        }
        for (tp, hw) in resolved.highWatermarks { highWatermarks[tp] = hw }
        assignmentOrder.sort()
    }

    /// Moves one assigned (or new) partition to `start`.
    public func seek(_ tp: TopicPartition, to start: StartOffset) async throws(ClientError) {
        try await assign([tp: start])
    }

    /// Drops partitions from the assignment.
    public func unassign(_ partitions: [TopicPartition]) {
        for tp in partitions {
            positions[tp] = nil
            highWatermarks[tp] = nil
        }
        assignmentOrder.removeAll { positions[$0] == nil }
    }

    /// The current assignment, sorted.
    public var assignment: [TopicPartition] { assignmentOrder }

    /// The next offset to read from `tp`.
    public func position(_ tp: TopicPartition) -> Int64? { positions[tp] }

    /// The last known high watermark of `tp` (from ListOffsets or the latest fetch).
    public func highWatermark(_ tp: TopicPartition) -> Int64? { highWatermarks[tp] }

    /// Whether every assigned partition's position has reached its last known high watermark.
    public var isAtEnd: Bool {
        assignmentOrder.allSatisfy { tp in
            guard let position = positions[tp], let hw = highWatermarks[tp] else { return false }
            return position >= hw
        }
    }

    private func resolve(_ starts: [TopicPartition: StartOffset]) async throws(ClientError)
        -> (positions: [TopicPartition: Int64], highWatermarks: [TopicPartition: Int64])
    {
        let all = Array(starts.keys)
        let latest = try await connection.listOffsets(all, timestamp: KafkaConnection.latestTimestamp)
        let earliestNeeded = starts.filter { if case .latest = $0.value { return false } else { return true } }
        let earliest = try await connection.listOffsets(
            Array(earliestNeeded.keys), timestamp: KafkaConnection.earliestTimestamp)
        var result: [TopicPartition: Int64] = [:]
        var hws: [TopicPartition: Int64] = [:]
        for (tp, start) in starts {
            let end = latest[tp]?.offset ?? 0
            let begin = earliest[tp]?.offset ?? 0
            hws[tp] = end
            switch start {
            case .earliest: result[tp] = begin
            case .latest: result[tp] = end
            case .offset(let n): result[tp] = n
            case .fromEnd(let n): result[tp] = max(begin, end - n)
            case .timestamp(let ms):
                let found = try await connection.listOffsets([tp], timestamp: ms)[tp]
                result[tp] = (found?.offset ?? -1) >= 0 ? (found?.offset ?? end) : end
            }
        }
        return (result, hws)
    }

    /// One Fetch for every assigned partition (long-polling up to `maxWaitMs` when nothing is there);
    /// returns the records after each position and advances the positions.
    ///
    /// - Throws: ``ClientError/unknownTopic(_:)`` when a topic disappeared, ``ClientError/corruptRecords(topic:partition:reason:)``,
    ///   or a broker error other than OFFSET_OUT_OF_RANGE (handled per `resetOnOutOfRange`).
    public func poll(maxWaitMs: Int32? = nil) async throws(ClientError) -> [ConsumerRecord] {
        guard !assignmentOrder.isEmpty else { return [] }
        let version = try connection.version(for: .fetch)
        let wait = maxWaitMs ?? configuration.maxWaitMs
        var byTopic: [(String, [FetchRequest.FetchPartition])] = []
        for tp in assignmentOrder {
            guard let position = positions[tp] else { continue }
            let partition = FetchRequest.FetchPartition(
                partition: tp.partition, fetchOffset: position, partitionMaxBytes: configuration.partitionMaxBytes)
            if let last = byTopic.indices.last, byTopic[last].0 == tp.topic {
                byTopic[last].1.append(partition)
            } else {
                byTopic.append((tp.topic, [partition]))
            }
        }
        let request = FetchRequest(
            replicaId: -1, maxWaitMs: wait, minBytes: configuration.minBytes, maxBytes: configuration.maxBytes,
            isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
            topics: byTopic.map { FetchRequest.FetchTopic(topic: $0.0, partitions: $0.1) })
        let response = try await connection.send(request, version: version, extraTimeoutMs: Int64(wait))
        let topLevel = KafkaErrorCode(rawValue: response.errorCode)
        guard topLevel == .none else { throw .broker(operation: "Fetch", code: topLevel, message: nil) }
        var records: [ConsumerRecord] = []
        var outOfRange: [TopicPartition] = []
        for topic in response.responses {
            for data in topic.partitions {
                let tp = TopicPartition(topic: topic.topic, partition: data.partitionIndex)
                guard positions[tp] != nil else { continue }
                let code = KafkaErrorCode(rawValue: data.errorCode)
                switch code {
                case .none: break
                case .offsetOutOfRange:
                    outOfRange.append(tp)
                    continue
                case .unknownTopicOrPartition: throw .unknownTopic(tp.topic)
                default:
                    if code.isRetriable { continue }
                    throw .broker(operation: "Fetch from \(tp)", code: code, message: nil)
                }
                highWatermarks[tp] = data.highWatermark
                if let bytes = data.records, bytes.readableBytes > 0 {
                    try decode(bytes, into: &records, tp: tp)
                }
            }
        }
        if !outOfRange.isEmpty { try await reset(outOfRange) }
        return records
    }

    /// Appends the records of `bytes` at or after the position of `tp`, and advances the position.
    private func decode(_ bytes: ByteBuffer, into records: inout [ConsumerRecord], tp: TopicPartition)
        throws(ClientError)
    {
        guard var position = positions[tp] else { return }
        var batches = RecordBatchIterator(bytes, verifyCRC: configuration.checkCRCs)
        do {
            while let batch = try batches.next() {
                let header = batch.header
                defer { position = max(position, header.nextOffset) }
                if header.attributes.isControl || header.lastOffset < position { continue }
                var iterator = try batch.makeRecordIterator()
                while let record = try iterator.next() {
                    let offset = record.offset(in: header)
                    guard offset >= position else { continue }
                    records.append(
                        ConsumerRecord(
                            topic: tp.topic, partition: tp.partition, offset: offset,
                            timestamp: record.timestamp(in: header), isLogAppendTime: header.attributes.isLogAppendTime,
                            key: record.key, value: record.value, headers: record.headers))
                }
            }
        } catch {
            positions[tp] = position
            throw .corruptRecords(topic: tp.topic, partition: tp.partition, reason: "\(error)")
        }
        positions[tp] = position
    }

    private func reset(_ partitions: [TopicPartition]) async throws(ClientError) {
        guard configuration.resetOnOutOfRange else {
            throw .broker(operation: "Fetch from \(partitions[0])", code: .offsetOutOfRange, message: nil)
        }
        let earliest = try await connection.listOffsets(partitions, timestamp: KafkaConnection.earliestTimestamp)
        let latest = try await connection.listOffsets(partitions, timestamp: KafkaConnection.latestTimestamp)
        for tp in partitions {
            guard let position = positions[tp] else { continue }
            let begin = earliest[tp]?.offset ?? 0
            let end = latest[tp]?.offset ?? 0
            positions[tp] = position < begin ? begin : end
            highWatermarks[tp] = end
        }
    }

    /// Closes the connection if this consumer opened it.
    public func close() async {
        if ownsConnection { await connection.close() }
    }
}
