internal import NIOCore
internal import RunnelRecords

/// A built record batch on its way to the broker: queued, in flight, or waiting to be resent.
///
/// The bytes are kept until the broker acknowledges them, so a retry resends exactly the same batch (same
/// producer id, epoch and sequence numbers: the broker drops it if the first attempt was written after all).
struct ProducerBatch {
    let topicPartition: TopicPartition
    private(set) var bytes: ByteBuffer
    let indices: IndexRanges
    let count: Int
    /// Creation order among all batches of the producer: a partition's batches are sent in this order.
    let order: ProducerBatchOrder
    /// When its first record was appended; the delivery timeout counts from here.
    let createdAt: ContinuousClock.Instant
    /// Sends so far.
    var attempts = 0
    /// The error of the last failed attempt.
    var lastError: ClientError?
    /// Idempotence fields in `bytes` (-1 without idempotence).
    private(set) var producerId: Int64
    private(set) var producerEpoch: Int16
    private(set) var baseSequence: Int32

    init(
        topicPartition: TopicPartition, bytes: ByteBuffer, indices: IndexRanges, count: Int, order: ProducerBatchOrder,
        createdAt: ContinuousClock.Instant, producerId: Int64, producerEpoch: Int16, baseSequence: Int32
    ) {
        self.topicPartition = topicPartition
        self.bytes = bytes
        self.indices = indices
        self.count = count
        self.order = order
        self.createdAt = createdAt
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.baseSequence = baseSequence
    }

    /// Splits the batch into two with the first and second half of its records (Java's producer does this
    /// when the broker answers MESSAGE_TOO_LARGE for a batch of several records). The halves keep the
    /// producer id and epoch and take the sequence ranges of their records, so under idempotence the
    /// partition's later batches stay in sequence; their orders sit where this batch's was.
    /// - Returns: nil when the batch has a single record or cannot be decoded.
    func split(compressionLevel: Int?) -> (ProducerBatch, ProducerBatch)? {
        guard count > 1, let batch = try? RecordBatch(unverified: bytes), let records = try? batch.records(),
            records.count == count
        else { return nil }
        let header = batch.header
        let middle = count / 2
        let indexList = indices.ranges.flatMap { Array($0) }
        guard indexList.count == count else { return nil }
        let orders = order.split()
        var halves: [ProducerBatch] = []
        for (part, range) in [(0, 0..<middle), (1, middle..<count)] {
            let sequence = baseSequence >= 0 ? baseSequence &+ Int32(truncatingIfNeeded: range.lowerBound) : -1
            var builder = RecordBatchBuilder(
                compression: header.attributes.compression ?? .none, compressionLevel: compressionLevel,
                producerId: producerId, producerEpoch: producerEpoch, baseSequence: sequence,
                initialCapacity: bytes.readableBytes / 2 + 1024)
            var partIndices = IndexRanges()
            for position in range {
                builder.append(records[position], timestamp: header.baseTimestamp &+ records[position].timestampDelta)
                partIndices.append(indexList[position])
            }
            guard let built = try? builder.build() else { return nil }
            var half = ProducerBatch(
                topicPartition: topicPartition, bytes: built, indices: partIndices, count: range.count,
                order: part == 0 ? orders.0 : orders.1, createdAt: createdAt, producerId: producerId,
                producerEpoch: producerEpoch, baseSequence: sequence)
            half.lastError = lastError
            halves.append(half)
        }
        return (halves[0], halves[1])
    }

    /// Rewrites the idempotence fields of the header (offsets 43, 51, 53 of KAFKA-FORMATS §2) and the CRC,
    /// which covers them. Used when the producer takes a new id: unsent batches are renumbered from 0.
    mutating func restamp(producerId: Int64, producerEpoch: Int16, baseSequence: Int32) {
        guard
            producerId != self.producerId || producerEpoch != self.producerEpoch
                || baseSequence != self.baseSequence
        else { return }
        let start = bytes.readerIndex
        bytes.setInteger(producerId, at: start + 43)
        bytes.setInteger(producerEpoch, at: start + 51)
        bytes.setInteger(baseSequence, at: start + 53)
        bytes.updateBatchCRC(at: start)
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.baseSequence = baseSequence
    }
}

/// Where a batch sorts among its partition's batches: its creation number, then a position inside the
/// interval a split batch's halves share (so halves sort before every later batch and in record order).
struct ProducerBatchOrder: Comparable {
    let major: Int
    let minor: UInt64
    /// Width of this batch's interval of `minor` values; halves get half each.
    let width: UInt64

    init(major: Int) {
        self.major = major
        self.minor = 0
        self.width = 1 << 62
    }

    private init(major: Int, minor: UInt64, width: UInt64) {
        self.major = major
        self.minor = minor
        self.width = width
    }

    /// The orders of the two halves (a batch of n records splits at most log2(n) < 32 times deep, so the width
    /// never reaches 0).
    func split() -> (ProducerBatchOrder, ProducerBatchOrder) {
        let half = max(1, width / 2)
        return (
            ProducerBatchOrder(major: major, minor: minor, width: half),
            ProducerBatchOrder(major: major, minor: minor + half, width: half)
        )
    }

    static func < (lhs: ProducerBatchOrder, rhs: ProducerBatchOrder) -> Bool {
        (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }

    static func == (lhs: ProducerBatchOrder, rhs: ProducerBatchOrder) -> Bool {
        lhs.major == rhs.major && lhs.minor == rhs.minor
    }
}
