import Dispatch
import Synchronization

/// The bounded background queue behind `ReadCache.offerColdRead`: read-backs of cold misses run here, one at a
/// time, never on the caller's thread (an event loop serving a fetch).
///
/// A serial `DispatchQueue` (not an actor or a Task) because the work is blocking `pread`s that must stay off the
/// event loops and the cooperative pool; serial so read-backs take at most one core and keep the order of the
/// misses. Bounded: at most `queueLimit` read-backs wait at once; an offer beyond that is dropped at once
/// (`droppedOffers`) — admission is an optimisation, and a scanner faster than the read-back must not queue
/// unbounded work or memory. The pending count is an `Atomic` so the offering thread never takes a lock.
/// Thread-safety: `submit`, `drain` and the counters may be used from any thread.
public final class ColdReadAdmitter: Sendable {
    /// Default for `queueLimit`: enough for 16 partitions' fetches in flight.
    public static let defaultQueueLimit = 32

    /// Read-backs that may wait at once.
    public let queueLimit: Int
    private let queue = DispatchQueue(label: "runnel.storage.cache-readback", qos: .utility)
    private let pending = Atomic<Int>(0)
    private let dropped = Atomic<Int>(0)

    init(queueLimit: Int) {
        self.queueLimit = max(0, queueLimit)
    }

    /// Whether an offer now would be queued (a cheap check before taking a ticket and building a request).
    var hasRoom: Bool { pending.load(ordering: .relaxed) < queueLimit }

    /// Offers dropped because the queue was full.
    var droppedOffers: Int { dropped.load(ordering: .relaxed) }

    /// Runs `work` on the read-back queue, or drops it (counted) when `queueLimit` read-backs already wait.
    /// - Returns: whether `work` was queued.
    @discardableResult
    func submit(_ work: @escaping @Sendable () -> Void) -> Bool {
        let (before, _) = pending.wrappingAdd(1, ordering: .relaxed)
        guard before < queueLimit else {
            pending.wrappingSubtract(1, ordering: .relaxed)
            dropped.wrappingAdd(1, ordering: .relaxed)
            return false
        }
        queue.async { [self] in
            work()
            pending.wrappingSubtract(1, ordering: .relaxed)
        }
        return true
    }

    /// Blocks until every read-back submitted so far has run (tests, tools).
    public func drain() {
        queue.sync {}
    }
}
