public import NIOCore
public import RunnelRecords

/// A record as a test writes and expects it back: absolute timestamp, byte keys/values (nil = null), headers.
public struct TestRecord: Sendable, Hashable, CustomStringConvertible {
    /// ms since the epoch.
    public var timestamp: Int64
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [RecordHeader]

    public init(timestamp: Int64, key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader] = []) {
        self.timestamp = timestamp
        self.key = key
        self.value = value
        self.headers = headers
    }

    /// A record with UTF-8 key and value.
    public init(timestamp: Int64, key: String?, value: String?, headers: [RecordHeader] = []) {
        self.init(timestamp: timestamp, key: key.map { Array($0.utf8) }, value: value.map { Array($0.utf8) },
            headers: headers)
    }

    public var description: String {
        func show(_ bytes: [UInt8]?) -> String { bytes.map { "\($0.count)B" } ?? "null" }
        return "TestRecord(ts: \(timestamp), key: \(show(key)), value: \(show(value)), headers: \(headers.count))"
    }
}

/// Builders of record batches for tests (records tests, storage tests, broker tests).
public enum TestBatches {
    /// A timestamp used by default: 2023-11-14T22:13:20Z in ms.
    public static let defaultTimestamp: Int64 = 1_700_000_000_000

    /// Random records: keys (sometimes null, sometimes empty), values (sometimes null = tombstones), 0–3 headers
    /// (sometimes with null values), timestamps increasing by 0–999 ms from `baseTimestamp`.
    public static func randomRecords(
        count: Int, using rng: inout some RandomNumberGenerator, baseTimestamp: Int64 = defaultTimestamp,
        maxKeyBytes: Int = 24, maxValueBytes: Int = 300, allowNullKeys: Bool = true, allowNullValues: Bool = true
    ) -> [TestRecord] {
        var records: [TestRecord] = []
        records.reserveCapacity(count)
        var timestamp = baseTimestamp
        for _ in 0..<count {
            let key: [UInt8]? =
                allowNullKeys && Int.random(in: 0..<8, using: &rng) == 0
                ? nil : randomBytes(count: Int.random(in: 0...maxKeyBytes, using: &rng), using: &rng)
            let value: [UInt8]? =
                allowNullValues && Int.random(in: 0..<10, using: &rng) == 0
                ? nil : randomBytes(count: Int.random(in: 0...maxValueBytes, using: &rng), using: &rng)
            var headers: [RecordHeader] = []
            for h in 0..<Int.random(in: 0...3, using: &rng) {
                let value: [UInt8]? =
                    Int.random(in: 0..<4, using: &rng) == 0
                    ? nil : randomBytes(count: Int.random(in: 0...16, using: &rng), using: &rng)
                headers.append(RecordHeader(key: "h\(h)-\(Int.random(in: 0..<100, using: &rng))", value: value))
            }
            records.append(TestRecord(timestamp: timestamp, key: key, value: value, headers: headers))
            timestamp += Int64.random(in: 0..<1000, using: &rng)
        }
        return records
    }

    /// Random bytes. When `compressible`, they are drawn from a 16-word vocabulary of 8 lowercase letters, so every
    /// codec (even LZ-only snappy and lz4) shrinks them well; otherwise uniformly random.
    public static func randomBytes(count: Int, using rng: inout some RandomNumberGenerator, compressible: Bool = true)
        -> [UInt8]
    {
        guard compressible else { return (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) } }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        while bytes.count < count {
            let word = Int.random(in: 0..<16, using: &rng)
            for letter in 0..<8 where bytes.count < count {
                bytes.append(UInt8(ascii: "a") + UInt8((word * 7 + letter * 3) % 26))
            }
        }
        return bytes
    }

    /// One batch holding `records` (offset deltas 0, 1, …; baseTimestamp = the first record's timestamp).
    /// - Precondition: `records` is not empty.
    public static func make(
        _ records: [TestRecord], compression: CompressionCodec = .none, baseOffset: Int64 = 0,
        producerId: Int64 = -1, producerEpoch: Int16 = -1, baseSequence: Int32 = -1, isTransactional: Bool = false,
        partitionLeaderEpoch: Int32 = -1
    ) -> ByteBuffer {
        precondition(!records.isEmpty, "TestBatches.make needs at least one record")
        var builder = RecordBatchBuilder(
            baseOffset: baseOffset, compression: compression, producerId: producerId, producerEpoch: producerEpoch,
            baseSequence: baseSequence, isTransactional: isTransactional, partitionLeaderEpoch: partitionLeaderEpoch)
        for record in records {
            builder.append(timestamp: record.timestamp, key: record.key, value: record.value, headers: record.headers)
        }
        do {
            return try builder.build()
        } catch {
            preconditionFailure("TestBatches.make: \(error)")
        }
    }

    /// A random batch from `seed`: `recordCount` random records (see `randomRecords`), returned with them.
    public static func make(
        seed: UInt64, recordCount: Int, compression: CompressionCodec = .none, baseOffset: Int64 = 0,
        baseTimestamp: Int64 = defaultTimestamp
    ) -> (batch: ByteBuffer, records: [TestRecord]) {
        var rng = SplitMix64(seed: seed)
        let records = randomRecords(count: recordCount, using: &rng, baseTimestamp: baseTimestamp)
        return (make(records, compression: compression, baseOffset: baseOffset), records)
    }

    /// A batch of UTF-8 `values` (keys nil unless given), all at `timestamp`.
    public static func simple(
        values: [String], keys: [String?]? = nil, timestamp: Int64 = defaultTimestamp, baseOffset: Int64 = 0,
        compression: CompressionCodec = .none
    ) -> ByteBuffer {
        let records = values.enumerated().map { index, value in
            TestRecord(timestamp: timestamp, key: keys?[index], value: value)
        }
        return make(records, compression: compression, baseOffset: baseOffset)
    }

    /// Several batches concatenated, with consecutive base offsets from `baseOffset` (sizes `batchSizes` records).
    public static func sequence(
        seed: UInt64, batchSizes: [Int], compression: CompressionCodec = .none, baseOffset: Int64 = 0
    ) -> (buffer: ByteBuffer, records: [TestRecord]) {
        var buffer = ByteBuffer()
        var all: [TestRecord] = []
        var offset = baseOffset
        for (index, size) in batchSizes.enumerated() {
            let (batch, records) = make(
                seed: seed &+ UInt64(index), recordCount: size, compression: compression, baseOffset: offset)
            buffer.writeImmutableBuffer(batch)
            all += records
            offset += Int64(size)
        }
        return (buffer, all)
    }

    /// Decodes every batch in `buffer` back into test records (absolute timestamps), checking CRCs.
    public static func decode(_ buffer: ByteBuffer) throws -> [TestRecord] {
        var iterator = RecordBatchIterator(buffer, verifyCRC: true)
        var result: [TestRecord] = []
        while let batch = try iterator.next() {
            for record in try batch.records() {
                result.append(
                    TestRecord(
                        timestamp: record.timestamp(in: batch.header), key: record.keyBytes, value: record.valueBytes,
                        headers: record.headers))
            }
        }
        return result
    }
}
