import RunnelStorage
import Synchronization

/// Long-poll fetches waiting for data, per partition; appends wake them (no polling).
///
/// Thread-safe (Mutex). Callbacks run outside the lock; each callback must be cheap and thread-safe (the Fetch
/// handler's callback just schedules a re-check on its own event loop).
final class FetchWaiters: Sendable {
    typealias Callback = @Sendable () -> Void

    private struct State {
        var nextToken: UInt64 = 0
        var byPartition: [TopicPartition: [UInt64: Callback]] = [:]
    }

    private let state = Mutex(State())

    /// Registers `callback` for appends to any of `partitions`; returns a token for `unregister`.
    func register(_ partitions: [TopicPartition], callback: @escaping Callback) -> UInt64 {
        state.withLock { state in
            state.nextToken += 1
            let token = state.nextToken
            for tp in partitions { state.byPartition[tp, default: [:]][token] = callback }
            return token
        }
    }

    func unregister(_ token: UInt64, partitions: [TopicPartition]) {
        state.withLock { state in
            for tp in partitions {
                state.byPartition[tp]?.removeValue(forKey: token)
                if state.byPartition[tp]?.isEmpty == true { state.byPartition.removeValue(forKey: tp) }
            }
        }
    }

    /// Wakes every fetch waiting on `tp` (after an append, a deletion or DeleteRecords).
    func notify(_ tp: TopicPartition) {
        let callbacks = state.withLock { state -> [Callback] in
            guard let waiters = state.byPartition[tp] else { return [] }
            return Array(waiters.values)
        }
        for callback in callbacks { callback() }
    }

    /// Wakes every waiting fetch (shutdown: they answer with what they have).
    func notifyAll() {
        let callbacks = state.withLock { state in state.byPartition.values.flatMap { $0.values } }
        for callback in callbacks { callback() }
    }

    var waitingCount: Int { state.withLock { Set($0.byPartition.values.flatMap { $0.keys }).count } }
}
