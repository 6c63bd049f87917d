internal import NIOCore
internal import RunnelRecords

/// A record batch of one partition that is still taking records (the producer's accumulator entry).
///
/// Invariants: `count` records were appended, their indices (positions in the producer's send order) are
/// `indices` plus the run `runStart...runEnd` not yet folded into it; `estimatedBytes` is an upper bound of the
/// uncompressed batch size.
struct OpenBatch {
    var builder: RecordBatchBuilder
    private var indices = IndexRanges()
    private var runStart = -1
    private var runEnd = -2
    private(set) var count = 0
    /// Upper bound of the batch's uncompressed size: header plus each record's estimated size.
    private(set) var estimatedBytes = RecordBatchHeader.size
    /// When the first record was appended (linger and delivery timeout start here).
    let openedAt: ContinuousClock.Instant
    /// The idempotence fields the builder was created with (-1 without idempotence).
    let producerId: Int64
    let producerEpoch: Int16
    let baseSequence: Int32

    init(builder: RecordBatchBuilder, openedAt: ContinuousClock.Instant) {
        self.builder = builder
        self.openedAt = openedAt
        self.producerId = builder.producerId
        self.producerEpoch = builder.producerEpoch
        self.baseSequence = builder.baseSequence
    }

    /// Appends one record; `index` is greater than every index appended before.
    @inline(__always)
    mutating func append(
        index: Int, timestamp: Int64, key: ByteBuffer?, value: ByteBuffer?, headers: [RecordHeader], size: Int
    ) {
        builder.append(timestamp: timestamp, key: key, value: value, headers: headers)
        if index == runEnd &+ 1 {
            runEnd = index
        } else {
            foldRun()
            runStart = index
            runEnd = index
        }
        count += 1
        estimatedBytes += size
    }

    private mutating func foldRun() {
        guard runStart >= 0 else { return }
        indices.append(runStart...runEnd)
        runStart = -1
    }

    /// The indices of every appended record.
    var recordIndices: IndexRanges {
        var all = indices
        if runStart >= 0 { all.append(runStart...runEnd) }
        return all
    }
}
