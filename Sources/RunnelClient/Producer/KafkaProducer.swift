internal import NIOCore
internal import RunnelProtocol
internal import RunnelRecords

/// A Kafka producer: accumulates records into one record batch per partition, closes a batch when it reaches
/// `batchSizeBytes` or has waited `lingerMs`, and sends closed batches in Produce requests with up to
/// `maxInFlightRequests` outstanding on one pipelined connection.
///
/// Idempotence (default, with acks=all): the producer gets a producer id from InitProducerId and numbers the
/// records of each partition 0, 1, 2, ... (`baseSequence` per batch); the broker drops a batch it has already
/// written (DUPLICATE_SEQUENCE_NUMBER counts as success). Batches of a partition are written to the socket in
/// sequence order and the broker processes one connection's requests in order.
///
/// Failures are per record: ``ProduceReport/failures`` names the records (by index in send order) and the
/// error. Failed batches are not retried. Under idempotence a failed batch leaves a sequence gap, so batches
/// already built behind it fail too (OUT_OF_ORDER_SEQUENCE_NUMBER); the next `send` then waits for the
/// outstanding requests and takes a new producer id, whose sequences start again at 0.
///
/// An actor: batch building and request bookkeeping are serial; the network work happens on NIO's loop.
/// For throughput, hand records over in bulk with ``send(_:)-([ProducerRecord])``.
public actor KafkaProducer {
    /// Per-topic state; the open batch and next sequence of partition `p` are at index `p`.
    private struct TopicState {
        var partitionCount: Int32
        var partitioner: Partitioner
        var batches: [OpenBatch?]
        var nextSequence: [Int32]
        var openCount = 0
    }

    private struct OpenBatch {
        var builder: RecordBatchBuilder
        var indices = IndexRanges()
        var count = 0
        /// Upper bound of the batch's uncompressed size: header plus each record's estimated size.
        var estimatedBytes = 61
        let openedAt: ContinuousClock.Instant

        mutating func append(
            index: Int, timestamp: Int64, key: ByteBuffer?, value: ByteBuffer?, headers: [RecordHeader], size: Int
        ) {
            builder.append(timestamp: timestamp, key: key, value: value, headers: headers)
            indices.append(index)
            count += 1
            estimatedBytes += size
        }
    }

    private struct ReadyBatch {
        let topicPartition: TopicPartition
        let bytes: ByteBuffer
        let indices: IndexRanges
        let count: Int
    }

    public let configuration: ProducerConfiguration
    private let connection: KafkaConnection
    private let ownsConnection: Bool
    private let produceVersion: Int16
    private var topics: [String: TopicState] = [:]
    private var producerId: Int64 = -1
    private var producerEpoch: Int16 = -1
    private var ready: [ReadyBatch] = []
    private var readyHead = 0
    private var inFlight = 0
    private var slotWaiters: [CheckedContinuation<Void, Never>] = []
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    private var lingerTask: Task<Void, Never>?
    private var needsNewProducerId = false
    private var isClosed = false
    private var report = ProduceReport()

    private init(
        connection: KafkaConnection, ownsConnection: Bool, configuration: ProducerConfiguration, produceVersion: Int16
    ) {
        self.connection = connection
        self.ownsConnection = ownsConnection
        self.configuration = configuration
        self.produceVersion = produceVersion
    }

    /// A producer on an existing connection (not closed by ``close()``).
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
        guard configuration.batchSizeBytes > 0, configuration.maxInFlightRequests > 0, configuration.lingerMs >= 0
        else {
            throw .invalidArgument("batch size and max in-flight requests must be positive, linger.ms not negative")
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

    private func initProducerId() async throws(ClientError) {
        let response = try await connection.send(
            InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: 60_000))
        let code = KafkaErrorCode(rawValue: response.errorCode)
        guard code == .none else { throw .broker(operation: "InitProducerId", code: code, message: nil) }
        producerId = response.producerId
        producerEpoch = response.producerEpoch
        for name in Array(topics.keys) {
            let count = topics[name]?.nextSequence.count ?? 0
            topics[name]?.nextSequence = Array(repeating: 0, count: count)
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
        if needsNewProducerId {
            // A batch failed: its sequence numbers left a gap. Send what was built under the old id, then
            // continue under a new producer id whose sequences start at 0 again.
            _ = await flush()
            if needsNewProducerId { try await initProducerId() }
        }
        for record in records where topics[record.topic] == nil {
            try await loadTopic(record.topic)
        }
        let now = ContinuousClock.now
        // One wall-clock reading per call: the records of a call arrive together (a chunk of input).
        let nowMs = WallClock.nowMs()
        let batchSize = configuration.batchSizeBytes
        // The current topic's state is moved out of `topics` while its records are appended, so its batch
        // buffers stay uniquely referenced (no copy-on-write) and the dictionary is hashed once per topic run.
        // The hot loop reads batches through optional chaining (no copy of a batch) and keeps counters local.
        var currentName = ""
        var current: TopicState?
        var index = report.recordsAccepted
        // Elements are read through the buffer pointer: field by field, never copying a whole record.
        records.withUnsafeBufferPointer { records in
            for position in records.indices {
                let recordIndex = index
                index += 1
                if current == nil || records[position].topic != currentName {
                    if let previous = current.take() { topics[currentName] = previous }
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
                    var indices = IndexRanges()
                    indices.append(recordIndex)
                    report.failures.append(
                        ProduceFailure(
                            topicPartition: TopicPartition(topic: currentName, partition: partition),
                            recordIndices: indices,
                            error: .unknownPartition(
                                topic: currentName, partition: partition, partitionCount: Int(topic.partitionCount))))
                    continue
                }
                let slot = Int(partition)
                let keyBytes = key?.readableBytes ?? 0
                let value = records[position].value
                let headers = records[position].headers
                var size = 21 + keyBytes + (value?.readableBytes ?? 0)
                for header in headers { size += header.encodedSize }
                // The partition's open batch is moved out of the array into a non-optional local and back: moves,
                // no copies. Sizes are tracked in the batch itself, so no builder getter is called per record.
                if topic.batches[slot] != nil { topic.openCount -= 1 }
                var batch =
                    topic.batches[slot].take()
                    ?? openBatch(sequence: topic.nextSequence[slot], now: now, firstRecordSize: size)
                if batch.count > 0, batch.estimatedBytes + size > batchSize {
                    finishBatch(batch, partition: partition, topicName: currentName, topic: &topic)
                    batch = openBatch(sequence: topic.nextSequence[slot], now: now, firstRecordSize: size)
                }
                batch.append(
                    index: recordIndex, timestamp: records[position].timestamp ?? nowMs, key: key, value: value,
                    headers: headers, size: size)
                if batch.estimatedBytes >= batchSize {
                    finishBatch(batch, partition: partition, topicName: currentName, topic: &topic)
                } else {
                    topic.batches[slot] = batch
                    topic.openCount += 1
                }
            }
        }
        if let previous = current { topics[currentName] = previous }
        report.recordsAccepted = index
        if configuration.lingerMs == 0 { closeAllBatches() } else { scheduleLinger() }
        await drain()
    }

    /// Closes every open batch, sends everything and waits for all responses. Returns the report so far.
    public func flush() async -> ProduceReport {
        closeAllBatches()
        await drain()
        while inFlight > 0 || readyHead < ready.count {
            await withCheckedContinuation { idleWaiters.append($0) }
            await drain()
        }
        return report
    }

    /// The report so far (records still buffered or in flight count as pending).
    public var currentReport: ProduceReport { report }

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
        let count = Int(metadata.partitionCount)
        topics[name] = TopicState(
            partitionCount: metadata.partitionCount, partitioner: Partitioner(start: start),
            batches: Array(repeating: nil, count: count), nextSequence: Array(repeating: 0, count: count))
    }

    private func openBatch(sequence: Int32, now: ContinuousClock.Instant, firstRecordSize: Int) -> OpenBatch {
        let idempotent = configuration.usesIdempotence && producerId >= 0
        let capacity = min(max(configuration.batchSizeBytes, firstRecordSize) + 1024, 2 << 20)
        let builder = RecordBatchBuilder(
            compression: configuration.compression, compressionLevel: configuration.compressionLevel,
            producerId: idempotent ? producerId : -1, producerEpoch: idempotent ? producerEpoch : -1,
            baseSequence: idempotent ? sequence : -1, initialCapacity: capacity)
        return OpenBatch(builder: builder, openedAt: now)
    }

    private func closeBatch(_ partition: Int32, topicName: String, topic: inout TopicState) {
        guard let batch = topic.batches[Int(partition)].take() else { return }
        topic.openCount -= 1
        finishBatch(batch, partition: partition, topicName: topicName, topic: &topic)
    }

    /// Builds a batch taken out of `topic.batches` and queues it for sending.
    private func finishBatch(_ batch: consuming OpenBatch, partition: Int32, topicName: String, topic: inout TopicState)
    {
        let slot = Int(partition)
        topic.partitioner.batchClosed(partition: partition, partitionCount: topic.partitionCount)
        topic.nextSequence[slot] &+= Int32(truncatingIfNeeded: batch.count)
        let key = TopicPartition(topic: topicName, partition: partition)
        let count = batch.count
        let indices = batch.indices
        do {
            let bytes = try batch.builder.build()
            ready.append(ReadyBatch(topicPartition: key, bytes: bytes, indices: indices, count: count))
        } catch {
            report.failures.append(
                ProduceFailure(
                    topicPartition: key, recordIndices: indices,
                    error: .invalidArgument("could not build the record batch: \(error)")))
        }
    }

    private func closeAllBatches(olderThan deadline: ContinuousClock.Instant? = nil) {
        for name in topics.keys.sorted() {
            guard var topic = topics.removeValue(forKey: name) else { continue }
            if topic.openCount > 0 {
                for slot in topic.batches.indices {
                    guard let batch = topic.batches[slot] else { continue }
                    if let deadline, batch.openedAt > deadline { continue }
                    closeBatch(Int32(slot), topicName: name, topic: &topic)
                }
            }
            topics[name] = topic
        }
    }

    private var oldestOpenBatch: ContinuousClock.Instant? {
        var oldest: ContinuousClock.Instant?
        for topic in topics.values where topic.openCount > 0 {
            for case let batch? in topic.batches where oldest.map({ batch.openedAt < $0 }) ?? true {
                oldest = batch.openedAt
            }
        }
        return oldest
    }

    private func scheduleLinger() {
        guard lingerTask == nil, let oldest = oldestOpenBatch else { return }
        let wake = oldest.advanced(by: .milliseconds(configuration.lingerMs))
        lingerTask = Task { [weak self] in
            try? await Task.sleep(until: wake, clock: .continuous)
            await self?.lingerExpired()
        }
    }

    private func lingerExpired() async {
        lingerTask = nil
        guard !isClosed else { return }
        closeAllBatches(olderThan: ContinuousClock.now.advanced(by: .milliseconds(-configuration.lingerMs)))
        scheduleLinger()
        await drain()
    }

    /// Sends ready batches in order, one request at a time as slots free up. Taking batches off `ready` and
    /// writing them to the connection happen without a suspension in between, so the wire order is the
    /// `ready` order even when several drains interleave.
    private func drain() async {
        while readyHead < ready.count {
            while inFlight >= configuration.maxInFlightRequests {
                await withCheckedContinuation { slotWaiters.append($0) }
            }
            guard readyHead < ready.count else { break }
            var taken: [ReadyBatch] = []
            var seen = Set<TopicPartition>()
            var bytes = 0
            while readyHead < ready.count {
                let batch = ready[readyHead]
                if seen.contains(batch.topicPartition) { break }  // one batch per partition per request
                if !taken.isEmpty, bytes + batch.bytes.readableBytes > configuration.maxRequestBytes { break }
                taken.append(batch)
                seen.insert(batch.topicPartition)
                bytes += batch.bytes.readableBytes
                readyHead += 1
            }
            if readyHead == ready.count {
                ready.removeAll(keepingCapacity: true)
                readyHead = 0
            }
            send(taken)
        }
    }

    private func send(_ batches: [ReadyBatch]) {
        var byTopic: [String: [ProduceRequest.PartitionProduceData]] = [:]
        var order: [String] = []
        for batch in batches {
            if byTopic[batch.topicPartition.topic] == nil { order.append(batch.topicPartition.topic) }
            byTopic[batch.topicPartition.topic, default: []].append(
                .init(index: batch.topicPartition.partition, records: batch.bytes))
            report.batchBytesSent += batch.bytes.readableBytes
        }
        let request = ProduceRequest(
            transactionalId: nil, acks: configuration.acks.rawValue, timeoutMs: configuration.ackTimeoutMs,
            topicData: order.map { .init(name: $0, partitionData: byTopic[$0] ?? []) })
        let expectsResponse = configuration.acks != .none
        let future = connection.sendFuture(request, version: produceVersion, expectsResponse: expectsResponse)
        inFlight += 1
        let version = produceVersion
        Task {
            let outcome: Result<ByteBuffer, ClientError>
            do throws(ClientError) {
                outcome = .success(try await KafkaConnection.await(future))
            } catch {
                outcome = .failure(error)
            }
            self.completed(batches, outcome: outcome, version: version, expectsResponse: expectsResponse)
        }
    }

    private func completed(
        _ batches: [ReadyBatch], outcome: Result<ByteBuffer, ClientError>, version: Int16, expectsResponse: Bool
    ) {
        inFlight -= 1
        defer { wakeWaiters() }
        let response: ProduceResponse
        switch outcome {
        case .failure(let error):
            for batch in batches { fail(batch, error) }
            return
        case .success(let body):
            guard expectsResponse else {
                for batch in batches { report.recordsWrittenUnacknowledged += batch.count }
                return
            }
            do throws(ClientError) {
                response = try KafkaConnection.decode(ProduceResponse.self, body: body, version: version)
            } catch {
                for batch in batches { fail(batch, error) }
                return
            }
        }
        var results: [TopicPartition: ProduceResponse.PartitionProduceResponse] = [:]
        for topic in response.responses {
            for partition in topic.partitionResponses {
                results[TopicPartition(topic: topic.name, partition: partition.index)] = partition
            }
        }
        for batch in batches {
            guard let result = results[batch.topicPartition] else {
                fail(batch, .malformedResponse(api: "Produce", reason: "no result for \(batch.topicPartition)"))
                continue
            }
            let code = KafkaErrorCode(rawValue: result.errorCode)
            if code == .none || code == .duplicateSequenceNumber {
                report.recordsAcknowledged += batch.count
                report.acknowledgements.append(
                    ProduceAck(
                        topicPartition: batch.topicPartition, baseOffset: result.baseOffset, recordCount: batch.count))
            } else {
                let detail = result.errorMessage ?? result.recordErrors.first?.batchIndexErrorMessage
                fail(batch, .broker(operation: "Produce to \(batch.topicPartition)", code: code, message: detail))
            }
        }
    }

    private func fail(_ batch: ReadyBatch, _ error: ClientError) {
        report.failures.append(
            ProduceFailure(topicPartition: batch.topicPartition, recordIndices: batch.indices, error: error))
        if configuration.usesIdempotence { needsNewProducerId = true }
    }

    /// Wakes every slot waiter (each re-checks for a free slot, in FIFO order) and, when idle, `flush` waiters.
    private func wakeWaiters() {
        let slots = slotWaiters
        slotWaiters.removeAll()
        for waiter in slots { waiter.resume() }
        if inFlight == 0 {
            let waiters = idleWaiters
            idleWaiters.removeAll()
            for waiter in waiters { waiter.resume() }
        }
    }
}
