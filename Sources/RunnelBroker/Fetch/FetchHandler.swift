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
    /// Long polls per connection, cancelled when their client hangs up.
    let hangUps = FetchHangUps()

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
        let tally = FetchOutTally()
        let read: @Sendable () -> (topics: [FetchTopicResult], bytes: Int, hasError: Bool) = {
            Self.read(targets, maxBytes: maxBytes, broker: broker, tally: tally)
        }
        let encode: @Sendable ([FetchTopicResult]) -> RequestOutcome = { topics in
            tally.recordSent(into: broker.metrics)
            for topic in topics {
                for partition in topic.partitions { broker.metrics.recordError(api: .fetch, code: partition.errorCode) }
            }
            var head = MessageWriter(initialCapacity: 8)
            head.writeInt32(header.correlationId)
            if header.apiVersion >= 12 { head.writeTaggedFields([]) }
            let parts = head.finish().map { ResponsePart.bytes($0) }
                + FetchResponseWriter.encode(version: header.apiVersion, topics: topics)
            return .respond(parts)
        }
        let maxWaitMs = request.maxWaitMs
        let eventLoop = context.eventLoop
        let connectionClosed = context.connectionClosed
        let hangUps = self.hangUps
        // A read that must go to the files (offset-index lookup, 61-byte header preads: catch-up readers) runs on
        // the thread pool; reads the cache serves (tail readers) stay on the event loop. If the pool is stopping,
        // the read runs here as before. Used for the first read and for every re-read of a long poll.
        let readWhereItBelongs: @Sendable () -> EventLoopFuture<LongPoll.ReadResult> = {
            guard Self.needsDisk(targets, broker: broker) else { return eventLoop.makeSucceededFuture(read()) }
            return broker.runBlocking(on: eventLoop, read).flatMapError { _ in eventLoop.makeSucceededFuture(read()) }
        }
        let respond: @Sendable (LongPoll.ReadResult) -> EventLoopFuture<RequestOutcome> = { first in
            if maxWaitMs <= 0 || first.bytes >= minBytes || first.hasError || broker.isShuttingDown {
                return eventLoop.makeSucceededFuture(encode(first.topics))
            }
            let partitions = targets.flatMap { $0.1.map { TopicPartition(topic: $0.topic, partition: $0.partition) } }
            let poll = LongPoll(
                eventLoop: eventLoop, waiters: broker.fetchWaiters, partitions: partitions,
                isSatisfied: { result in result.bytes >= minBytes || result.hasError || broker.isShuttingDown },
                read: readWhereItBelongs, encode: encode)
            let answer = poll.start(maxWaitMs: Int64(maxWaitMs))
            // A client that hangs up stops the wait at once instead of holding a waiter until max_wait_ms (one
            // close-future callback per connection: see FetchHangUps).
            let token = hangUps.watch(poll, until: connectionClosed)
            answer.whenComplete { _ in hangUps.release(token, closed: connectionClosed) }
            return answer
        }
        return readWhereItBelongs().flatMap(respond)
    }

    /// Whether some target's read would go to the segment files (a cache miss inside its log).
    static func needsDisk(_ targets: [(String, [Target])], broker: BrokerContext) -> Bool {
        targets.contains { name, partitions in
            partitions.contains { target in
                let tp = TopicPartition(topic: name, partition: target.partition)
                return broker.topics.log(tp)?.readWouldTouchDisk(from: target.fetchOffset) ?? false
            }
        }
    }

    /// Reads every target once; `tally` receives what this read returned per partition (metrics).
    static func read(_ targets: [(String, [Target])], maxBytes: Int, broker: BrokerContext, tally: FetchOutTally? = nil)
        -> (topics: [FetchTopicResult], bytes: Int, hasError: Bool)
    {
        var sent: [FetchOutTally.Entry] = []
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
                    if bytes > 0 {
                        sent.append(
                            .init(topic: name, bytes: bytes, offsets: max(0, result.nextOffset - target.fetchOffset)))
                    }
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
        tally?.set(sent)
        return (topics, total, hasError)
    }
}

