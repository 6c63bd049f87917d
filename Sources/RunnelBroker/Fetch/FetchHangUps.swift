import NIOCore
import Synchronization

/// The long polls waiting on each connection, so that a client that hangs up ends its waits at once.
///
/// One callback per connection on its close future, not one per poll: a future keeps every callback until it
/// completes, so a callback per long poll grew the heap for as long as the connection lived (~1.4 KB per fetch,
/// ~7 MiB/s with 16 tail consumers). Polls are removed when they answer; the connection's (possibly empty) entry
/// stays until its close future completes, which keeps the single callback registered.
///
/// Thread-safety: a `Mutex` (not an actor): registration happens on event loops, which must not suspend; every
/// critical section is a dictionary update. Polls are cancelled outside the lock.
final class FetchHangUps: Sendable {
    private struct State {
        var nextToken: UInt64 = 0
        /// Connection (its close future's identity) → waiting polls by token.
        var connections: [ObjectIdentifier: [UInt64: LongPoll]] = [:]
    }

    private let state = Mutex(State())

    /// Cancels `poll` if `closed` completes before `release(_:)` is called with the returned token.
    func watch(_ poll: LongPoll, until closed: EventLoopFuture<Void>) -> UInt64 {
        let key = ObjectIdentifier(closed)
        let (token, isFirst) = state.withLock { state in
            state.nextToken += 1
            let isFirst = state.connections[key] == nil
            state.connections[key, default: [:]][state.nextToken] = poll
            return (state.nextToken, isFirst)
        }
        if isFirst {
            // Runs at once if the connection is already closed.
            closed.whenComplete { [self] _ in
                let polls = state.withLock { $0.connections.removeValue(forKey: key) } ?? [:]
                for poll in polls.values { poll.cancel() }
            }
        }
        return token
    }

    /// Forgets a poll that has answered.
    func release(_ token: UInt64, closed: EventLoopFuture<Void>) {
        let key = ObjectIdentifier(closed)
        _ = state.withLock { $0.connections[key]?.removeValue(forKey: token) }
    }

}
