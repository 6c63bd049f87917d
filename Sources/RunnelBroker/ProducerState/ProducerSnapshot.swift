import RunnelRecords

/// Kafka's producer-state snapshot file (`<offset>.snapshot`, `ProducerSnapshot.json` version 1; §5.7).
///
/// | off | size | field |
/// |---|---|---|
/// | 0 | 2 | version int16 = 1 |
/// | 2 | 4 | crc uint32 = CRC-32C of bytes [6, end) |
/// | 6 | 4 | entry count int32 |
/// | 10 | 46 each | producerId int64, producerEpoch int16, lastSequence int32, lastOffset int64, offsetDelta int32, timestamp int64, coordinatorEpoch int32, currentTxnFirstOffset int64 |
///
/// Only the last batch of each producer is persisted, so after a restart only that batch is detected as a
/// duplicate (as in Kafka).
public struct ProducerSnapshot: Sendable, Hashable {
    public static let version: Int16 = 1
    public static let entrySize = 46
    public static let fileSuffix = ".snapshot"

    /// The map end offset the snapshot was taken at (also its file name).
    public var offset: Int64
    public var entries: [ProducerStateEntry]

    public init(offset: Int64, entries: [ProducerStateEntry]) {
        self.offset = offset
        self.entries = entries
    }

    /// `00000000000000000042.snapshot`.
    public static func fileName(offset: Int64) -> String {
        let digits = String(offset)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + fileSuffix
    }

    /// The offset in a snapshot file name, or nil when it is not one.
    public static func offset(fromFileName name: String) -> Int64? {
        guard name.hasSuffix(fileSuffix) else { return nil }
        let stem = name.dropLast(fileSuffix.count)
        guard stem.count == 20, stem.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int64(stem)
    }

    /// The file bytes.
    public func encoded() -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(4 + entries.count * Self.entrySize)
        body.appendBigEndian(Int32(clamping: entries.count))
        for entry in entries {
            let last = entry.batches.last
            body.appendBigEndian(entry.producerId)
            body.appendBigEndian(entry.producerEpoch)
            body.appendBigEndian(last?.lastSeq ?? -1)
            body.appendBigEndian(last?.lastOffset ?? -1)
            body.appendBigEndian(last?.offsetDelta ?? 0)
            body.appendBigEndian(last?.timestamp ?? entry.lastTimestamp)
            body.appendBigEndian(entry.coordinatorEpoch)
            body.appendBigEndian(Int64(-1))  // currentTxnFirstOffset: no transactions
        }
        var result: [UInt8] = []
        result.appendBigEndian(Self.version)
        result.appendBigEndian(CRC32C.checksum(body))
        result.append(contentsOf: body)
        return result
    }

    /// Parses a snapshot file.
    /// - Throws: `ProducerSnapshotError` for a wrong version, a CRC mismatch or bad lengths.
    public init(decoding bytes: [UInt8], offset: Int64) throws(ProducerSnapshotError) {
        var reader = BigEndianReader(bytes: bytes)
        guard let version = reader.int16(), let crc = reader.uint32() else { throw .truncated }
        guard version == Self.version else { throw .unsupportedVersion(version) }
        let actual = CRC32C.checksum(bytes[6...])
        guard actual == crc else { throw .crcMismatch(expected: crc, actual: actual) }
        guard let count = reader.int32(), count >= 0, Int(count) * Self.entrySize == bytes.count - 10 else {
            throw .truncated
        }
        var entries: [ProducerStateEntry] = []
        for _ in 0..<count {
            guard let producerId = reader.int64(), let epoch = reader.int16(), let lastSeq = reader.int32(),
                let lastOffset = reader.int64(), let offsetDelta = reader.int32(), let timestamp = reader.int64(),
                let coordinatorEpoch = reader.int32(), reader.int64() != nil
            else { throw .truncated }
            var batches: [ProducerBatchMetadata] = []
            if lastOffset >= 0, lastSeq >= 0, offsetDelta >= 0 {
                batches.append(
                    ProducerBatchMetadata(
                        firstSeq: ProducerSequence.decrement(lastSeq, by: offsetDelta), lastSeq: lastSeq,
                        firstOffset: lastOffset - Int64(offsetDelta), lastOffset: lastOffset, timestamp: timestamp))
            }
            entries.append(
                ProducerStateEntry(
                    producerId: producerId, producerEpoch: epoch, coordinatorEpoch: coordinatorEpoch,
                    lastTimestamp: timestamp, batches: batches))
        }
        self.init(offset: offset, entries: entries)
    }
}
