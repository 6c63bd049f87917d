import Logging
import NIOCore
import RunnelProtocol
import RunnelRecords
import RunnelStorage

/// Produce (key 0): advertised 0–11 (librdkafka's compression gates look for old versions, §12.1) but only
/// 3–11 served; v0–2 close the connection.
///
/// Per partition, in Kafka's order (§2.9): exactly one magic-2 batch (v3+), zstd needs v7+; baseOffset 0;
/// size ≤ max.message.bytes; CRC; counts; control/producer fields; per-record rules (compacted topics need keys,
/// timestamp bounds) decoded only when a rule needs records; then storage's append (segment.bytes), guarded by
/// the idempotent-producer checks (§9). Batches are stored exactly as sent (never re-compressed).
/// acks=0: no response (the connection is closed if a partition failed). acks=-1 waits for any fsync the
/// flush policy (`flush.messages`/`flush.ms`) asks for.
struct ProduceHandler {
    static let advertisedVersions: ClosedRange<Int16> = 0...11
    static let acceptedVersions: ClosedRange<Int16> = 3...11
    let broker: BrokerContext

    var erased: AnyApiHandler {
        AnyApiHandler(
            apiKey: .produce, advertisedVersions: Self.advertisedVersions, acceptedVersions: Self.acceptedVersions
        ) { body, context in
            var reader = body
            let request: ProduceRequest
            do {
                request = try ProduceRequest(from: &reader, version: context.version)
            } catch {
                return context.eventLoop.makeSucceededFuture(.close(reason: "malformed Produce body: \(error)"))
            }
            return handle(request, context: context)
        }
    }

    /// The result for one partition.
    private struct PartitionResult {
        var index: Int32
        var error: ErrorCode = .none
        var message: String?
        var baseOffset: Int64 = -1
        var logAppendTime: Int64 = -1
        var logStartOffset: Int64 = -1
        var recordErrorIndex: Int32?
        var flush: PartitionLog?
    }

    func handle(_ request: ProduceRequest, context: RequestContext) -> EventLoopFuture<RequestOutcome> {
        let acks = request.acks
        let version = context.version
        var topics: [(name: String, partitions: [PartitionResult])] = []
        for topicData in request.topicData {
            var results: [PartitionResult] = []
            for partitionData in topicData.partitionData {
                var result = PartitionResult(index: partitionData.index)
                if ![-1, 0, 1].contains(acks) {
                    result.error = .invalidRequiredAcks
                } else if request.transactionalId != nil {
                    result.error = .invalidTxnState
                    result.message = "transactions are not supported"
                } else {
                    produce(
                        topicData.name, partitionData, version: version, into: &result, logger: context.logger)
                }
                results.append(result)
            }
            topics.append((topicData.name, results))
        }
        let failed = topics.contains { $0.partitions.contains { $0.error != .none } }
        if acks == 0 {
            if failed {
                // No response carries these codes, so they are counted here (the close counts as well).
                for topic in topics {
                    for partition in topic.partitions { broker.metrics.recordError(api: .produce, code: partition.error.rawValue) }
                }
                return context.eventLoop.makeSucceededFuture(.close(reason: "acks=0 produce failed"))
            }
        }
        // Flushes requested by the flush policy run on the thread pool; acks=-1 waits for them.
        let logsToFlush = topics.flatMap { $0.partitions.compactMap(\.flush) }
        var flushed: EventLoopFuture<Void> = context.eventLoop.makeSucceededVoidFuture()
        if !logsToFlush.isEmpty {
            let logger = context.logger
            let flush = broker.runBlocking(on: context.eventLoop) {
                for log in logsToFlush {
                    do {
                        try log.flush()
                    } catch {
                        logger.error("flush failed", metadata: ["partition": "\(log.topicPartition)", "error": "\(error)"])
                        throw error
                    }
                }
            }
            if acks == -1 { flushed = flush }
        }
        if acks == 0 { return context.eventLoop.makeSucceededFuture(.noResponse) }
        let header = context.header
        let finalTopics = topics
        let metrics = broker.metrics
        return flushed.map { () -> RequestOutcome in
            let response = Self.response(finalTopics, flushFailed: false)
            metrics.recordErrors(in: response, api: .produce)
            return .respond(ResponseEncoder.encode(response, header: header))
        }.flatMapErrorThrowing { _ in
            let response = Self.response(finalTopics, flushFailed: true)
            metrics.recordErrors(in: response, api: .produce)
            return .respond(ResponseEncoder.encode(response, header: header))
        }
    }

    private static func response(_ topics: [(name: String, partitions: [PartitionResult])], flushFailed: Bool)
        -> ProduceResponse
    {
        var response = ProduceResponse()
        response.throttleTimeMs = 0
        response.responses = topics.map { topic in
            var topicResponse = ProduceResponse.TopicProduceResponse()
            topicResponse.name = topic.name
            topicResponse.partitionResponses = topic.partitions.map { result in
                var partition = ProduceResponse.PartitionProduceResponse()
                partition.index = result.index
                let error = flushFailed && result.flush != nil ? ErrorCode.kafkaStorageError : result.error
                partition.errorCode = error.rawValue
                partition.baseOffset = error == .none ? result.baseOffset : -1
                partition.logAppendTimeMs = error == .none ? result.logAppendTime : -1
                partition.logStartOffset = result.logStartOffset
                partition.errorMessage = error == .none ? nil : result.message?.clampedForWire()
                if let index = result.recordErrorIndex {
                    partition.recordErrors = [.init(batchIndex: index, batchIndexErrorMessage: result.message?.clampedForWire())]
                }
                return partition
            }
            return topicResponse
        }
        return response
    }

    /// Validates and appends one partition's records, filling `result`.
    private func produce(
        _ topicName: String, _ data: ProduceRequest.PartitionProduceData, version: Int16, into result: inout PartitionResult,
        logger: Logger
    ) {
        if TopicName.isInternal(topicName) {
            result.error = .invalidTopicException
            result.message = "cannot produce to internal topic \(topicName)"
            return
        }
        let tp = TopicPartition(topic: topicName, partition: data.index)
        guard let log = broker.topics.log(tp) else {
            result.error = .unknownTopicOrPartition
            return
        }
        result.logStartOffset = log.logStartOffset
        guard let records = data.records, records.readableBytes > 0 else {
            result.error = .invalidRecord
            result.message = "produce request has no record batch"
            return
        }
        let config = log.config
        // 1. Exactly one batch, magic 2 (header checks read magic at byte 16 first).
        let header: RecordBatchHeader
        do {
            header = try RecordBatchHeader(parsing: records, at: records.readerIndex)
        } catch {
            result.error = records.readableBytes < RecordBatchHeader.size ? .corruptMessage : .invalidRecord
            result.message = "\(error)"
            return
        }
        guard header.sizeInBytes == records.readableBytes else {
            result.error = header.sizeInBytes > records.readableBytes ? .corruptMessage : .invalidRecord
            result.message = "produce v3+ requires exactly one record batch per partition"
            return
        }
        if header.attributes.compression == .zstd, version < 7 {
            result.error = .unsupportedCompressionType
            result.message = "zstd requires Produce v7 or later"
            return
        }
        // 2. Client batches carry baseOffset 0.
        guard header.baseOffset == 0 else {
            result.error = .invalidRecord
            result.message = "batch baseOffset must be 0"
            return
        }
        // 3. max.message.bytes.
        guard header.sizeInBytes <= config.maxMessageBytes else {
            result.error = .messageTooLarge
            result.message = "batch of \(header.sizeInBytes) bytes exceeds max.message.bytes \(config.maxMessageBytes)"
            return
        }
        if header.attributes.isTransactional {
            result.error = .invalidTxnState
            result.message = "transactional batches are not supported"
            return
        }
        // 4–9. Append: storage checks the CRC, counts, control/producer fields and the per-record rules (one pass over
        // the bytes, decompressing only for a compacted topic or timestamp bounds) and segment.bytes; idempotent-
        // producer checks wrap it when the batch has a producer id.
        do {
            let now = broker.clock()
            var info: AppendInfo?
            if header.hasProducerId {
                let fields = ProducerBatchFields(header: header)
                let outcome = try broker.producerStates.state(for: tp).append(fields) {
                    let appended = try log.append(records, now: now)
                    info = appended
                    let timestamp = appended.logAppendTime >= 0 ? appended.logAppendTime : header.maxTimestamp
                    return AppendedBatch(
                        firstOffset: appended.firstOffset, lastOffset: appended.lastOffset, timestamp: timestamp)
                }
                if case let .duplicate(original) = outcome {
                    logger.debug(
                        "duplicate batch from idempotent producer",
                        metadata: ["partition": "\(tp)", "producer.id": "\(header.producerId)"])
                    result.baseOffset = original.firstOffset
                    result.logAppendTime = config.messageTimestampType == .logAppendTime ? original.timestamp : -1
                    result.logStartOffset = log.logStartOffset
                    return
                }
            } else {
                info = try log.append(records, now: now)
            }
            guard let info else { return }
            broker.metrics.recordAppend(topic: topicName, bytes: records.readableBytes, records: header.recordsCount)
            result.baseOffset = info.firstOffset
            result.logAppendTime = info.logAppendTime
            result.logStartOffset = info.logStartOffset
            if info.flushNeeded { result.flush = log }
            broker.fetchWaiters.notify(tp)
        } catch {
            result.error = ErrorCode(any: error)
            result.message = "\(error)"
            if case let .invalidBatch(.invalidTimestamp(index?, _))? = error as? StorageError {
                result.recordErrorIndex = Int32(clamping: index)
            }
            if result.error == .kafkaStorageError || result.error == .unknownServerError {
                logger.error("append failed", metadata: ["partition": "\(tp)", "error": "\(error)"])
            }
        }
    }
}
