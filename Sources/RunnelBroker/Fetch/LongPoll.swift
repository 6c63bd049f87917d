import NIOCore
import RunnelStorage

/// One waiting Fetch. All mutable state lives on `eventLoop` (NIOLoopBoundBox); the waiter callback and the
/// timeout only schedule work there, so checks and completion never race.
final class LongPoll: Sendable {
    typealias ReadResult = (topics: [FetchTopicResult], bytes: Int, hasError: Bool)

    private struct State {
        var completed = false
        var token: UInt64?
        var timeout: Scheduled<Void>?
    }

    private let eventLoop: any EventLoop
    private let waiters: FetchWaiters
    private let partitions: [TopicPartition]
    private let isSatisfied: @Sendable (ReadResult) -> Bool
    /// Reads every partition once; completes on `eventLoop` (the caller runs disk reads on the thread pool).
    private let read: @Sendable () -> EventLoopFuture<ReadResult>
    private let encode: @Sendable ([FetchTopicResult]) -> RequestOutcome
    private let promise: EventLoopPromise<RequestOutcome>
    private let state: NIOLoopBoundBox<State>

    init(
        eventLoop: any EventLoop, waiters: FetchWaiters, partitions: [TopicPartition],
        isSatisfied: @escaping @Sendable (ReadResult) -> Bool,
        read: @escaping @Sendable () -> EventLoopFuture<ReadResult>,
        encode: @escaping @Sendable ([FetchTopicResult]) -> RequestOutcome
    ) {
        self.eventLoop = eventLoop
        self.waiters = waiters
        self.partitions = partitions
        self.isSatisfied = isSatisfied
        self.read = read
        self.encode = encode
        self.promise = eventLoop.makePromise(of: RequestOutcome.self)
        self.state = NIOLoopBoundBox(State(), eventLoop: eventLoop)
    }

    /// Registers for wake-ups and a timeout. Must be called on `eventLoop`.
    func start(maxWaitMs: Int64) -> EventLoopFuture<RequestOutcome> {
        eventLoop.preconditionInEventLoop()
        let eventLoop = self.eventLoop
        state.value.token = waiters.register(partitions) { [self] in
            eventLoop.execute { self.recheck() }
        }
        state.value.timeout = eventLoop.scheduleTask(in: .milliseconds(maxWaitMs)) { [self] in
            self.finishWithFreshRead()
        }
        // An append between the first read and the registration would otherwise be missed.
        recheck()
        return promise.futureResult
    }

    /// Stops waiting now and answers with what is available (the connection closed or the broker stops).
    func cancel() {
        if eventLoop.inEventLoop {
            finishIfWaiting()
        } else {
            eventLoop.execute { self.finishIfWaiting() }
        }
    }

    private func finishIfWaiting() {
        finishWithFreshRead()
    }

    /// Answers with what a new read finds (timeout, hang-up, shutdown).
    private func finishWithFreshRead() {
        guard !state.value.completed else { return }
        read().whenSuccess { [self] result in self.finish(with: result) }
    }

    private func recheck() {
        guard !state.value.completed else { return }
        read().whenSuccess { [self] result in
            if self.isSatisfied(result) { self.finish(with: result) }
        }
    }

    private func finish(with result: ReadResult) {
        guard !state.value.completed else { return }
        state.value.completed = true
        if let token = state.value.token { waiters.unregister(token, partitions: partitions) }
        state.value.timeout?.cancel()
        promise.succeed(encode(result.topics))
    }
}
