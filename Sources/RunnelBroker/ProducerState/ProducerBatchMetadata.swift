/// One appended batch of an idempotent producer, as retained for duplicate detection.
///
/// Invariants: `firstOffset <= lastOffset`; `lastSeq == firstSeq (+) (lastOffset - firstOffset)` with Kafka's
/// wrap-around at Int32.max.
public struct ProducerBatchMetadata: Sendable, Hashable {
    public var firstSeq: Int32
    public var lastSeq: Int32
    public var firstOffset: Int64
    public var lastOffset: Int64
    /// The batch's max timestamp (or log-append time), ms.
    public var timestamp: Int64

    public init(firstSeq: Int32, lastSeq: Int32, firstOffset: Int64, lastOffset: Int64, timestamp: Int64) {
        self.firstSeq = firstSeq
        self.lastSeq = lastSeq
        self.firstOffset = firstOffset
        self.lastOffset = lastOffset
        self.timestamp = timestamp
    }

    /// `lastOffset - firstOffset` as stored in a snapshot.
    public var offsetDelta: Int32 { Int32(clamping: lastOffset - firstOffset) }
}

/// Kafka's sequence arithmetic (`DefaultRecordBatch.incrementSequence/decrementSequence`): sequences wrap from
/// Int32.max to 0.
public enum ProducerSequence {
    public static func increment(_ sequence: Int32, by increment: Int32) -> Int32 {
        if sequence > Int32.max - increment { return increment - (Int32.max - sequence) - 1 }
        return sequence + increment
    }

    public static func decrement(_ sequence: Int32, by decrement: Int32) -> Int32 {
        if sequence < decrement { return Int32.max - (decrement - sequence) + 1 }
        return sequence - decrement
    }

    /// True when `next` directly follows `last` (`ProducerAppendInfo.inSequence`).
    public static func isInSequence(last: Int32, next: Int32) -> Bool {
        next == last &+ 1 || (next == 0 && last == Int32.max)
    }
}
