internal import NIOCore
internal import RunnelProtocol
internal import RunnelRecords

/// A Kafka producer: accumulates records into one record batch per partition, closes a batch when it reaches
/// `batchSizeBytes` or has waited `lingerMs`, and sends closed batches in Produce requests (one batch per
/// partition per request) with up to `maxInFlightRequests` outstanding on one pipelined connection.
///
/// Idempotence (default, with acks=all): the producer gets a producer id from InitProducerId and numbers the
/// records of each partition 0, 1, 2, ... (`baseSequence` per batch); the broker drops a batch it has already
/// written (DUPLICATE_SEQUENCE_NUMBER counts as success). Batches of a partition are written to the socket in
/// sequence order and the broker processes one connection's requests in order.
///
/// Retries (as the Java client and librdkafka): a batch that fails with a retriable error (a lost connection,
/// a request timeout, NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS, UNKNOWN_TOPIC_OR_PARTITION, ...) is resent
/// unchanged after `retryBackoffMs`, up to `retries` times and until `deliveryTimeoutMs` after its first
/// record was appended; a lost connection is re-established with backoff. A partition's batches are resent in
/// order (see ``PartitionSendQueue``), so with idempotence a retry never duplicates or reorders records.
/// A batch that finally fails is reported in ``ProduceReport/failures``; under idempotence that leaves a
/// sequence gap, so the producer then waits for its outstanding requests, takes a new producer id and
/// renumbers every batch not yet sent.
///
/// An actor: batch building and request bookkeeping are serial; the network work happens on NIO's loop.
/// For throughput, hand records over in bulk: ``send(_:)-(ProducerRecordBlock)`` or an array of records.
public actor KafkaProducer {
    public let configuration: ProducerConfiguration
    var connection: KafkaConnection
    /// Whether the current connection was opened by the producer (and is closed by it).
    var ownsConnection: Bool
    /// Bumped on every reconnect; a failure of an older connection's request does not mark the new one broken.
    var connectionGeneration = 0
    /// The connection failed: reconnect before the next request.
    var connectionBroken = false
    var produceVersion: Int16
    var topics: [String: TopicAccumulator] = [:]
    var producerId: Int64 = -1
    var producerEpoch: Int16 = -1
    /// Built batches per partition, waiting to be sent (or resent).
    var queues: [TopicPartition: PartitionSendQueue] = [:]
    /// Partitions that may have queued batches, in the order requests visit them.
    var activePartitions: [TopicPartition] = []
    var activeSet: Set<TopicPartition> = []
    /// Batches in `queues`.
    var queuedBatches = 0
    var nextBatchOrder = 0
    /// Requests sent and not answered yet.
    var inFlight = 0
    /// Number of the next request sent, and of the next request whose outcome is processed: outcomes are
    /// processed in request order (an error of one batch decides how the next batches' errors are read).
    var nextRequestNumber = 0
    var nextOutcomeNumber = 0
    /// Outcomes that arrived ahead of an earlier request's, by request number.
    var earlyOutcomes: [Int: RequestOutcome] = [:]
    /// Woken on every completion and at the end of a recovery.
    var changeWaiters: [CheckedContinuation<Void, Never>] = []
    /// Woken when nothing is in flight.
    var idleWaiters: [CheckedContinuation<Void, Never>] = []
    var lingerTask: Task<Void, Never>?
    var recovery: Task<Void, Never>?
    var drainScheduled = false
    /// A batch finally failed under idempotence: take a new producer id before sending anything else.
    var needsNewProducerId = false
    /// The last error of a reconnect or InitProducerId attempt.
    var recoveryError: ClientError?
    var isClosed = false
    var report = ProduceReport()

    private init(
        connection: KafkaConnection, ownsConnection: Bool, configuration: ProducerConfiguration, produceVersion: Int16
    ) {
        self.connection = connection
        self.ownsConnection = ownsConnection
        self.configuration = configuration
        self.produceVersion = produceVersion
    }

    /// A producer on an existing connection (not closed by ``close()``; after a connection failure the
    /// producer opens its own connection to the same address).
    public static func make(connection: KafkaConnection, configuration: ProducerConfiguration = .init())
        async throws(ClientError) -> KafkaProducer
    {
        try await make(connection: connection, ownsConnection: false, configuration: configuration)
    }

    /// Connects to `bootstrap` and returns a producer that owns the connection.
    public static func connect(
        to bootstrap: BrokerAddress, configuration: ProducerConfiguration = .init(),
        clientId: String = "runnel-producer"
    ) async throws(ClientError) -> KafkaProducer {
        let connection = try await KafkaConnection.connect(to: bootstrap, clientId: clientId)
        do {
            return try await make(connection: connection, ownsConnection: true, configuration: configuration)
        } catch {
            await connection.close()
            throw error
        }
    }

    private static func make(connection: KafkaConnection, ownsConnection: Bool, configuration: ProducerConfiguration)
        async throws(ClientError) -> KafkaProducer
    {
        guard configuration.batchSizeBytes > 0, configuration.maxInFlightRequests > 0, configuration.lingerMs >= 0,
            configuration.retries >= 0, configuration.retryBackoffMs >= 0, configuration.deliveryTimeoutMs > 0
        else {
            throw .invalidArgument(
                "batch size, max in-flight requests and delivery timeout must be positive; linger.ms, retries "
                    + "and retry.backoff.ms not negative")
        }
        if configuration.usesIdempotence,
            configuration.maxInFlightRequests > ProducerConfiguration.maxIdempotentInFlight
        {
            // The broker remembers the last 5 batches per producer and partition: a resend further back could not
            // be recognised as a duplicate.
            throw .invalidArgument(
                "an idempotent producer allows at most \(ProducerConfiguration.maxIdempotentInFlight) requests in flight"
            )
        }
        let version = try connection.version(for: .produce)
        let producer = KafkaProducer(
            connection: connection, ownsConnection: ownsConnection, configuration: configuration,
            produceVersion: version)
        if configuration.usesIdempotence { try await producer.initProducerId() }
        return producer
    }

    /// The producer id and epoch in use (-1 without idempotence).
    public var producerIdentity: (id: Int64, epoch: Int16) { (producerId, producerEpoch) }

    /// Takes a producer id and renumbers every queued batch and every partition's next sequence from 0.
    /// Called with nothing in flight.
    func initProducerId() async throws(ClientError) {
        let response = try await connection.send(
            InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: 60_000))
        let code = KafkaErrorCode(rawValue: response.errorCode)
        guard code == .none else { throw .broker(operation: "InitProducerId", code: code, message: nil) }
        producerId = response.producerId
        producerEpoch = response.producerEpoch
        for name in Array(topics.keys) { topics[name]?.resetSequences() }
        for key in Array(queues.keys) {
            var sequence: Int32 = 0
            let (id, epoch) = (producerId, producerEpoch)
            queues[key]?.updateEach { batch in
                batch.restamp(producerId: id, producerEpoch: epoch, baseSequence: sequence)
                sequence &+= Int32(truncatingIfNeeded: batch.count)
            }
            let slot = Int(key.partition)
            if let count = topics[key.topic]?.nextSequence.count, slot < count {
                topics[key.topic]?.nextSequence[slot] = sequence
            }
        }
        needsNewProducerId = false
    }

    // MARK: - Sending

    /// Appends one record (see ``send(_:)-([ProducerRecord])``).
    public func send(_ record: ProducerRecord) async throws(ClientError) {
        try await send([record])
    }

    /// Appends records to their partitions' batches and sends every batch that filled up. Returns once the
    /// records are buffered (not acknowledged): call ``flush()`` for the outcome. Waits while
    /// `maxInFlightRequests` requests are outstanding (backpressure).
    ///
    /// - Throws: ``ClientError/unknownTopic(_:)`` (no record of the call is taken), ``ClientError/closed``.
    ///   A record for a partition that does not exist is reported as a failure instead.
    public func send(_ records: [ProducerRecord]) async throws(ClientError) {
        guard !isClosed else { throw .closed }
        for record in records where topics[record.topic] == nil {
            try await loadTopic(record.topic)
        }
        let now = ContinuousClock.now
        // One wall-clock reading per call: the records of a call arrive together (a chunk of input).
        let nowMs = WallClock.nowMs()
        let settings = accumulatorSettings
        // The current topic's accumulator is moved out of `topics` while its records are appended (see
        // TopicAccumulator), so the dictionary is hashed once per run of records of one topic.
        var currentName = ""
        var current: TopicAccumulator?
        var index = report.recordsAccepted
        var rejected: [ProduceFailure] = []
        // Elements are read through the buffer pointer: field by field, never copying a whole record.
        records.withUnsafeBufferPointer { records in
            for position in records.indices {
                let recordIndex = index
                index += 1
                if current == nil || records[position].topic != currentName {
                    if var previous = current.take() {
                        previous.park()
                        topics[currentName] = previous
                    }
                    currentName = records[position].topic
                    current = topics.removeValue(forKey: currentName)
                }
                guard var topic = current.take() else { continue }  // every topic was loaded above
                defer { current = topic }
                let key = records[position].key
                let partition =
                    records[position].partition
                    ?? topic.partitioner.partition(key: key, partitionCount: topic.partitionCount)
                guard partition >= 0, partition < topic.partitionCount else {
                    rejected.append(
                        Self.unknownPartition(
                            topic: currentName, partition: partition, count: topic.partitionCount, index: recordIndex))
                    continue
                }
                let value = records[position].value
                let headers = records[position].headers
                var size = 21 + (key?.readableBytes ?? 0) + (value?.readableBytes ?? 0)
                for header in headers { size += header.encodedSize }
                topic.append(
                    index: recordIndex, partition: partition, key: key, value: value, headers: headers,
                    timestamp: records[position].timestamp ?? nowMs, size: size, now: now, settings: settings)
            }
        }
        if var previous = current {
            previous.park()
            topics[currentName] = previous
        }
        report.recordsAccepted = index
        report.failures.append(contentsOf: rejected)
        queueClosedBatches()
        if configuration.lingerMs == 0 { closeAllBatches() } else { scheduleLinger() }
        await drain()
    }

    /// Appends a block of records (one topic, byte ranges of one buffer) to their partitions' batches and sends
    /// every batch that filled up. Same contract as ``send(_:)-([ProducerRecord])``; a span outside the buffer
    /// or a partition that does not exist is reported as a failure of that record.
    public func send(_ block: ProducerRecordBlock) async throws(ClientError) {
        guard !isClosed else { throw .closed }
        if topics[block.topic] == nil { try await loadTopic(block.topic) }
        guard var topic = topics.removeValue(forKey: block.topic) else { throw .unknownTopic(block.topic) }
        let now = ContinuousClock.now
        let timestamp = block.timestamp ?? WallClock.nowMs()
        let settings = accumulatorSettings
        let headers = block.headers
        var headersSize = 0
        for header in headers { headersSize += header.encodedSize }
        let buffer = block.buffer
        let base = buffer.readerIndex
        let readable = buffer.readableBytes
        let fixedPartition = block.partition
        var index = report.recordsAccepted
        var rejected: [ProduceFailure] = []
        for span in block.spans {
            let recordIndex = index
            index += 1
            var key: ByteBuffer?
            var value: ByteBuffer?
            var size = 21 + headersSize
            if span.keyLength >= 0 {
                let offset = Int(span.keyOffset)
                let length = Int(span.keyLength)
                guard offset >= 0, offset + length <= readable else {
                    rejected.append(Self.badSpan(topic: block.topic, index: recordIndex))
                    continue
                }
                key = buffer.getSlice(at: base + offset, length: length)
                size += length
            }
            if span.valueLength >= 0 {
                let offset = Int(span.valueOffset)
                let length = Int(span.valueLength)
                guard offset >= 0, offset + length <= readable else {
                    rejected.append(Self.badSpan(topic: block.topic, index: recordIndex))
                    continue
                }
                value = buffer.getSlice(at: base + offset, length: length)
                size += length
            }
            let partition =
                fixedPartition ?? topic.partitioner.partition(key: key, partitionCount: topic.partitionCount)
            guard partition >= 0, partition < topic.partitionCount else {
                rejected.append(
                    Self.unknownPartition(
                        topic: block.topic, partition: partition, count: topic.partitionCount, index: recordIndex))
                continue
            }
            topic.append(
                index: recordIndex, partition: partition, key: key, value: value, headers: headers,
                timestamp: timestamp, size: size, now: now, settings: settings)
        }
        topic.park()
        topics[block.topic] = topic
        report.recordsAccepted = index
        report.failures.append(contentsOf: rejected)
        queueClosedBatches()
        if configuration.lingerMs == 0 { closeAllBatches() } else { scheduleLinger() }
        await drain()
    }

    private static func unknownPartition(topic: String, partition: Int32, count: Int32, index: Int) -> ProduceFailure {
        var indices = IndexRanges()
        indices.append(index)
        return ProduceFailure(
            topicPartition: TopicPartition(topic: topic, partition: partition), recordIndices: indices,
            error: .unknownPartition(topic: topic, partition: partition, partitionCount: Int(count)))
    }

    private static func badSpan(topic: String, index: Int) -> ProduceFailure {
        var indices = IndexRanges()
        indices.append(index)
        return ProduceFailure(
            topicPartition: nil, recordIndices: indices,
            error: .invalidArgument("record \(index) of a block for \(topic) lies outside the block's buffer"))
    }

    /// Closes every open batch, sends everything and waits for all responses (retries included, so at most
    /// about `deliveryTimeoutMs`). Returns the report so far.
    public func flush() async -> ProduceReport {
        closeAllBatches()
        while true {
            await drain()
            if inFlight == 0 && queuedBatches == 0 { break }
            if inFlight > 0 {
                await withCheckedContinuation { idleWaiters.append($0) }
            } else {
                try? await Task.sleep(for: .milliseconds(max(1, configuration.retryBackoffMs)))
            }
        }
        return report
    }

    /// The report so far (records still buffered or in flight count as pending).
    public var currentReport: ProduceReport { report }

    /// While the producer is reconnecting or waiting to take a new producer id: the last error that attempt
    /// met (nil when it has not failed yet or nothing is being retried).
    public var retryingBecause: ClientError? {
        connectionBroken || needsNewProducerId || recovery != nil ? recoveryError : nil
    }

    /// Flushes, then closes the connection if this producer opened it. Further sends throw ``ClientError/closed``.
    @discardableResult
    public func close() async -> ProduceReport {
        let final = await flush()
        isClosed = true
        lingerTask?.cancel()
        lingerTask = nil
        if ownsConnection { await connection.close() }
        return final
    }

    /// Loads the metadata of `topics` now, so an unknown topic fails before any record is read.
    /// - Throws: ``ClientError/unknownTopic(_:)``.
    public func prepare(topics names: [String]) async throws(ClientError) {
        for name in names where topics[name] == nil { try await loadTopic(name) }
    }

    /// The partition count of a topic the producer has loaded.
    public func partitionCount(of topic: String) -> Int32? { topics[topic]?.partitionCount }

    private func loadTopic(_ name: String) async throws(ClientError) {
        let metadata = try await connection.topicMetadata(
            name, allowAutoTopicCreation: configuration.allowAutoTopicCreation)
        guard topics[name] == nil else { return }  // loaded by a concurrent call meanwhile
        let start = Int32.random(in: 0..<max(1, metadata.partitionCount))
        topics[name] = TopicAccumulator(
            name: name, partitionCount: metadata.partitionCount, partitioner: Partitioner(start: start))
    }

    private var accumulatorSettings: TopicAccumulator.Settings {
        let idempotent = configuration.usesIdempotence && producerId >= 0
        return TopicAccumulator.Settings(
            batchSizeBytes: configuration.batchSizeBytes, compression: configuration.compression,
            compressionLevel: configuration.compressionLevel, producerId: idempotent ? producerId : -1,
            producerEpoch: idempotent ? producerEpoch : -1)
    }

    // MARK: - Closing batches

    /// Builds the batches the accumulators closed and queues them for sending.
    func queueClosedBatches() {
        for name in Array(topics.keys) where !(topics[name]?.closed.isEmpty ?? true) {
            guard let closed = topics[name]?.closed else { continue }
            topics[name]?.closed.removeAll(keepingCapacity: true)
            for entry in closed { queue(entry, topic: name) }
        }
    }

    private func queue(_ entry: TopicAccumulator.Closed, topic name: String) {
        let key = TopicPartition(topic: name, partition: entry.partition)
        let indices = entry.batch.recordIndices
        let count = entry.batch.count
        let openedAt = entry.batch.openedAt
        let (id, epoch, sequence) = (entry.batch.producerId, entry.batch.producerEpoch, entry.batch.baseSequence)
        let bytes: ByteBuffer
        do {
            bytes = try entry.batch.builder.build()
        } catch {
            report.failures.append(
                ProduceFailure(
                    topicPartition: key, recordIndices: indices,
                    error: .invalidArgument("could not build the record batch: \(error)")))
            return
        }
        var batch = ProducerBatch(
            topicPartition: key, bytes: bytes, indices: indices, count: count,
            order: ProducerBatchOrder(major: nextBatchOrder),
            createdAt: openedAt, producerId: id, producerEpoch: epoch, baseSequence: sequence)
        nextBatchOrder += 1
        if id >= 0 {
            // Opened under an earlier producer id: renumber by the current one.
            batch.restamp(producerId: producerId, producerEpoch: producerEpoch, baseSequence: entry.baseSequence)
        }
        queues[key, default: PartitionSendQueue()].append(batch)
        queuedBatches += 1
        markActive(key)
    }

    func markActive(_ key: TopicPartition) {
        if activeSet.insert(key).inserted { activePartitions.append(key) }
    }

    private func closeAllBatches(openedBy deadline: ContinuousClock.Instant? = nil) {
        for name in topics.keys.sorted() {
            topics[name]?.closeAll(openedBy: deadline)
        }
        queueClosedBatches()
    }

    private func scheduleLinger() {
        guard lingerTask == nil else { return }
        var oldest: ContinuousClock.Instant?
        for topic in topics.values {
            if let opened = topic.oldestOpenBatch, oldest.map({ opened < $0 }) ?? true { oldest = opened }
        }
        guard let oldest else { return }
        let wake = oldest.advanced(by: .milliseconds(configuration.lingerMs))
        lingerTask = Task { [weak self] in
            try? await Task.sleep(until: wake, clock: .continuous)
            await self?.lingerExpired()
        }
    }

    private func lingerExpired() async {
        lingerTask = nil
        guard !isClosed else { return }
        closeAllBatches(openedBy: ContinuousClock.now.advanced(by: .milliseconds(-configuration.lingerMs)))
        scheduleLinger()
        await drain()
    }
}
