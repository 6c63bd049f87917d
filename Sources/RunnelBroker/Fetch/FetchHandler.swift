import Logging
import NIOCore
import RunnelProtocol
import RunnelStorage

/// Fetch (key 1), v4–12: reads whole batches per partition, long-polls until `min_bytes` are available or
/// `max_wait_ms` passes (woken by appends through `FetchWaiters`, never by polling), and sends records zero-copy.
///
/// Limits: the response holds at most `min(max_bytes, fetch.max.bytes)` record bytes and each partition at most
/// `partition_max_bytes`, except that the first partition with data always gets at least one whole batch
/// (KIP-74). Fetch sessions are not kept: every response has session_id 0, so clients send full requests.
struct FetchHandler {
    static let versions: ClosedRange<Int16> = 4...12
    let broker: BrokerContext

    var erased: AnyApiHandler {
        AnyApiHandler(apiKey: .fetch, advertisedVersions: Self.versions) { body, context in
            var reader = body
            let request: FetchRequest
            do {
                request = try FetchRequest(from: &reader, version: context.version)
            } catch {
                return context.eventLoop.makeSucceededFuture(.close(reason: "malformed Fetch body: \(error)"))
            }
            return handle(request, context: context)
        }
    }

    /// One requested partition.
    struct Target: Sendable {
        var topic: String
        var partition: Int32
        var fetchOffset: Int64
        var partitionMaxBytes: Int
    }

    func handle(_ request: FetchRequest, context: RequestContext) -> EventLoopFuture<RequestOutcome> {
        let targets = request.topics.map { topic in
            (topic.topic, topic.partitions.map {
                Target(topic: topic.topic, partition: $0.partition, fetchOffset: $0.fetchOffset,
                    partitionMaxBytes: Int(max(0, $0.partitionMaxBytes)))
            })
        }
        let maxBytes = min(Int(max(0, request.maxBytes)), broker.configuration.fetchMaxBytes)
        let minBytes = Int(request.minBytes)
        let header = context.header
        let broker = self.broker
        let read: @Sendable () -> (topics: [FetchTopicResult], bytes: Int, hasError: Bool) = {
            Self.read(targets, maxBytes: maxBytes, broker: broker)
        }
        let encode: @Sendable ([FetchTopicResult]) -> RequestOutcome = { topics in
            var head = MessageWriter(initialCapacity: 8)
            head.writeInt32(header.correlationId)
            if header.apiVersion >= 12 { head.writeTaggedFields([]) }
            let parts = head.finish().map { ResponsePart.bytes($0) }
                + FetchResponseWriter.encode(version: header.apiVersion, topics: topics)
            return .respond(parts)
        }
        let first = read()
        if request.maxWaitMs <= 0 || first.bytes >= minBytes || first.hasError || broker.isShuttingDown {
            return context.eventLoop.makeSucceededFuture(encode(first.topics))
        }
        let partitions = targets.flatMap { $0.1.map { TopicPartition(topic: $0.topic, partition: $0.partition) } }
        let poll = LongPoll(
            eventLoop: context.eventLoop, waiters: broker.fetchWaiters, partitions: partitions,
            isSatisfied: { result in result.bytes >= minBytes || result.hasError || broker.isShuttingDown },
            read: read, encode: encode)
        let answer = poll.start(maxWaitMs: Int64(request.maxWaitMs))
        // A client that hangs up stops the wait at once instead of holding a waiter until max_wait_ms.
        context.connectionClosed.whenComplete { _ in poll.cancel() }
        return answer
    }

    /// Reads every target once.
    static func read(_ targets: [(String, [Target])], maxBytes: Int, broker: BrokerContext)
        -> (topics: [FetchTopicResult], bytes: Int, hasError: Bool)
    {
        var remaining = maxBytes
        var total = 0
        var hasError = false
        var topics: [FetchTopicResult] = []
        for (name, partitions) in targets {
            var results: [FetchPartitionResult] = []
            for target in partitions {
                let tp = TopicPartition(topic: name, partition: target.partition)
                guard let log = broker.topics.log(tp) else {
                    results.append(.error(target.partition, .unknownTopicOrPartition))
                    hasError = true
                    continue
                }
                let limit = min(target.partitionMaxBytes, remaining)
                do {
                    let result = try log.read(from: target.fetchOffset, maxBytes: max(limit, 0), minOneBatch: total == 0)
                    let bytes = result.byteCount
                    results.append(
                        FetchPartitionResult(
                            partitionIndex: target.partition, errorCode: 0, highWatermark: result.highWatermark,
                            lastStableOffset: result.highWatermark, logStartOffset: result.logStartOffset,
                            records: result.chunks))
                    total += bytes
                    remaining = max(0, remaining - bytes)
                } catch {
                    var failed = FetchPartitionResult.error(target.partition, ErrorCode(error))
                    failed.highWatermark = log.highWatermark
                    failed.lastStableOffset = log.highWatermark
                    failed.logStartOffset = log.logStartOffset
                    results.append(failed)
                    hasError = true
                }
            }
            topics.append(FetchTopicResult(name: name, partitions: results))
        }
        return (topics, total, hasError)
    }
}

