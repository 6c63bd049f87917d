internal import NIOCore
internal import RunnelRecords

/// The open batches of one topic and the code that appends records to them (the producer's hot loop).
///
/// A value type the producer moves out of its dictionary for the length of one `send` call, so the batch
/// buffers stay uniquely referenced (no copy-on-write) and the loop touches no actor state. The batch being
/// filled is kept out of `batches` in `current` while records keep going to its partition (the usual case:
/// the sticky partitioner or a fixed partition), so no batch is moved per record.
///
/// Invariants: `openCount` is the number of open batches (in `batches` or `current`); `current`, when set,
/// belongs to partition `currentSlot` and `batches[currentSlot]` is nil; `nextSequence[p]` is the sequence of
/// the next record of partition `p` that has not been put in a batch yet.
struct TopicAccumulator {
    /// The producer settings the batches need.
    struct Settings {
        var batchSizeBytes: Int
        var compression: CompressionCodec
        var compressionLevel: Int?
        /// -1 without idempotence.
        var producerId: Int64
        var producerEpoch: Int16
    }

    /// A batch closed by the loop, to be built and queued by the producer.
    struct Closed {
        var partition: Int32
        var batch: OpenBatch
        /// The batch's base sequence by the current numbering (differs from the builder's after a producer id
        /// change while the batch was open; the producer then restamps it).
        var baseSequence: Int32
    }

    let name: String
    let partitionCount: Int32
    var partitioner: Partitioner
    private var batches: [OpenBatch?]
    var nextSequence: [Int32]
    private(set) var openCount = 0
    private var current: OpenBatch?
    private var currentSlot = -1
    /// Batches closed since the producer last took them.
    var closed: [Closed] = []

    init(name: String, partitionCount: Int32, partitioner: Partitioner) {
        self.name = name
        self.partitionCount = partitionCount
        self.partitioner = partitioner
        let count = Int(max(0, partitionCount))
        self.batches = Array(repeating: nil, count: count)
        self.nextSequence = Array(repeating: 0, count: count)
    }

    /// Appends one record to partition `partition` (0 ≤ partition < partitionCount), closing the partition's
    /// batch first when the record would push it past `settings.batchSizeBytes`, and after, when it is full.
    /// - Parameter size: the record's estimated encoded size (``ProducerRecord/estimatedSize``).
    @inline(__always)
    mutating func append(
        index: Int, partition: Int32, key: ByteBuffer?, value: ByteBuffer?, headers: [RecordHeader],
        timestamp: Int64, size: Int, now: ContinuousClock.Instant, settings: Settings
    ) {
        let slot = Int(partition)
        if slot != currentSlot {
            park()
            current = batches[slot].take()
            currentSlot = slot
            if current != nil { openCount -= 1 }
        }
        var batch = current.take() ?? open(slot: slot, now: now, firstRecordSize: size, settings: settings)
        if batch.count > 0, batch.estimatedBytes + size > settings.batchSizeBytes {
            close(batch, slot: slot)
            batch = open(slot: slot, now: now, firstRecordSize: size, settings: settings)
        }
        batch.append(index: index, timestamp: timestamp, key: key, value: value, headers: headers, size: size)
        if batch.estimatedBytes >= settings.batchSizeBytes {
            close(batch, slot: slot)
        } else {
            current = batch
            openCount += 1
        }
    }

    /// Puts the batch being filled back into `batches` (call at the end of each `send`).
    mutating func park() {
        guard currentSlot >= 0 else { return }
        if let batch = current.take() { batches[currentSlot] = batch }
        currentSlot = -1
    }

    /// Closes every open batch, or only those opened at or before `deadline`.
    mutating func closeAll(openedBy deadline: ContinuousClock.Instant? = nil) {
        park()
        guard openCount > 0 else { return }
        for slot in batches.indices {
            guard let openedAt = batches[slot]?.openedAt else { continue }
            if let deadline, openedAt > deadline { continue }
            if let batch = batches[slot].take() {
                openCount -= 1
                close(batch, slot: slot)
            }
        }
    }

    /// When the oldest open batch was opened.
    var oldestOpenBatch: ContinuousClock.Instant? {
        var oldest = current?.openedAt
        guard openCount > 0 else { return oldest }
        for case let batch? in batches where oldest.map({ batch.openedAt < $0 }) ?? true {
            oldest = batch.openedAt
        }
        return oldest
    }

    /// Restarts every partition's sequence at 0 (a new producer id or epoch).
    mutating func resetSequences() {
        for slot in nextSequence.indices { nextSequence[slot] = 0 }
    }

    private func open(slot: Int, now: ContinuousClock.Instant, firstRecordSize: Int, settings: Settings) -> OpenBatch {
        let idempotent = settings.producerId >= 0
        let capacity = min(max(settings.batchSizeBytes, firstRecordSize) + 1024, 2 << 20)
        let builder = RecordBatchBuilder(
            compression: settings.compression, compressionLevel: settings.compressionLevel,
            producerId: settings.producerId, producerEpoch: idempotent ? settings.producerEpoch : -1,
            baseSequence: idempotent ? nextSequence[slot] : -1, initialCapacity: capacity)
        return OpenBatch(builder: builder, openedAt: now)
    }

    private mutating func close(_ batch: consuming OpenBatch, slot: Int) {
        let partition = Int32(truncatingIfNeeded: slot)
        partitioner.batchClosed(partition: partition, partitionCount: partitionCount)
        let sequence = nextSequence[slot]
        nextSequence[slot] &+= Int32(truncatingIfNeeded: batch.count)
        closed.append(Closed(partition: partition, batch: batch, baseSequence: sequence))
    }
}
