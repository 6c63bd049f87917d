/// The built batches of one partition waiting to be sent, in creation order, with the partition's
/// in-flight count and retry hold.
///
/// Ordering rule (what keeps an idempotent producer's sequences gap-free): after a batch fails with a
/// retriable error, the partition is `held`: nothing more of it is sent until every batch of it in flight has
/// come back; then the failed batches go out again, oldest first, ahead of newer ones.
///
/// Invariants: `batches[head...]` are sorted by ``ProducerBatch/order``; `inFlight >= 0`.
struct PartitionSendQueue {
    private var batches: [ProducerBatch] = []
    private var head = 0
    /// Batches of this partition in requests not answered yet.
    var inFlight = 0
    /// Set by a retriable failure; cleared when the partition has nothing in flight and sends again.
    var held = false
    /// No send before this instant (retry backoff).
    var notBefore: ContinuousClock.Instant?

    var isEmpty: Bool { head == batches.count }
    var queuedCount: Int { batches.count - head }

    /// The next batch to send.
    var first: ProducerBatch? { head < batches.count ? batches[head] : nil }

    /// Whether the head may go out now.
    func canSend(at now: ContinuousClock.Instant) -> Bool {
        guard !isEmpty, !(held && inFlight > 0) else { return false }
        if let notBefore, notBefore > now { return false }
        return true
    }

    /// Appends a new batch (its order is above every queued one).
    mutating func append(_ batch: ProducerBatch) {
        batches.append(batch)
    }

    /// Puts a batch that failed back in its place by creation order.
    mutating func requeue(_ batch: ProducerBatch) {
        var position = batches.count
        while position > head, batches[position - 1].order > batch.order { position -= 1 }
        batches.insert(batch, at: position)
    }

    /// Removes and returns the head.
    mutating func removeFirst() -> ProducerBatch? {
        guard head < batches.count else { return nil }
        let batch = batches[head]
        head += 1
        if head == batches.count {
            batches.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64, head * 2 >= batches.count {
            batches.removeFirst(head)
            head = 0
        }
        return batch
    }

    /// Removes and returns every queued batch for which `shouldRemove` is true, keeping the others in order.
    mutating func removeAll(where shouldRemove: (ProducerBatch) -> Bool) -> [ProducerBatch] {
        var removed: [ProducerBatch] = []
        var kept: [ProducerBatch] = []
        for batch in batches[head...] {
            if shouldRemove(batch) { removed.append(batch) } else { kept.append(batch) }
        }
        batches = kept
        head = 0
        return removed
    }

    /// Applies `body` to every queued batch, oldest first.
    mutating func updateEach(_ body: (inout ProducerBatch) -> Void) {
        for position in head..<batches.count { body(&batches[position]) }
    }
}
