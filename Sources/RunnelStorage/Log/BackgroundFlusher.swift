import Dispatch

/// A serial background queue for the fsyncs that must not run inline on append: flushing a segment when it is
/// rolled (KAFKA-FORMATS §5.11), after which the recovery point advances.
///
/// A serial `DispatchQueue` (not an actor or a Task) because the work is blocking system calls that must stay off
/// both event loops and the cooperative pool; serial so that recovery points advance in roll order.
/// Thread-safety: `submit` and `drain` may be called from any thread.
final class BackgroundFlusher: Sendable {
    private let queue: DispatchQueue

    init(label: String = "runnel.storage.flusher") {
        queue = DispatchQueue(label: label, qos: .utility)
    }

    /// Runs `work` after everything submitted before it.
    func submit(_ work: @escaping @Sendable () -> Void) {
        queue.async(execute: work)
    }

    /// Blocks until everything submitted so far has run (close, tests).
    func drain() {
        queue.sync {}
    }
}
