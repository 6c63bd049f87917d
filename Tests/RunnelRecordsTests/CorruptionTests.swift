import NIOCore
import RunnelRecords
import TestSupport
import Testing

/// Hostile bytes never crash the decoders and always produce a typed `RecordsError`.
@Suite struct CorruptionTests {
    /// Decodes everything that can be decoded, without CRC checks, so corrupt records reach the record decoder.
    static func decodeAll(_ buffer: ByteBuffer) throws(RecordsError) -> Int {
        var iterator = RecordBatchIterator(buffer, verifyCRC: false)
        var count = 0
        while let batch = try iterator.next() {
            count += try batch.records(maxDecompressedBytes: 1 << 20).count
        }
        return count
    }

    @Test(arguments: CompressionCodec.allCases)
    func flippedBytesAnywhereGiveTypedErrorsOrValidRecords(codec: CompressionCodec) throws {
        let (batch, _) = TestBatches.make(seed: 21, recordCount: 12, compression: codec)
        var rng = SplitMix64(seed: UInt64(codec.rawValue))
        for _ in 0..<400 {
            var corrupt = batch
            let index = Int.random(in: 0..<corrupt.readableBytes, using: &rng)
            let byte = corrupt.getInteger(at: index, as: UInt8.self) ?? 0
            corrupt.setInteger(byte ^ UInt8.random(in: 1...255, using: &rng), at: index)
            // Must not crash; any outcome is a count or a RecordsError (the typed throw proves the type).
            _ = try? Self.decodeAll(corrupt)
            // With CRC checks, a flip at 17 or later is always caught (CRC field or covered bytes).
            if index >= RecordBatchHeader.crcOffset {
                #expect(throws: RecordsError.self) { try RecordBatch(validating: corrupt) }
            }
        }
    }

    @Test(arguments: CompressionCodec.allCases)
    func truncationsAtEveryLengthAreHandled(codec: CompressionCodec) throws {
        let (batch, _) = TestBatches.make(seed: 8, recordCount: 6, compression: codec)
        for cut in 0..<batch.readableBytes {
            var truncated = batch
            truncated.moveWriterIndex(to: cut)
            #expect(throws: RecordsError.self) { try RecordBatch(validating: truncated) }
            #expect(try Self.decodeAll(truncated) == 0, "a partial batch is not yielded")
            // Also lie about the length so the decoder sees a short payload behind a matching header.
            if cut >= RecordBatchHeader.size {
                truncated.setInteger(Int32(cut - RecordBatchHeader.logOverhead), at: RecordBatchHeader.batchLengthOffset)
                _ = try? Self.decodeAll(truncated)
            }
        }
    }

    @Test func recordsWithLyingLengthsAreRejected() throws {
        // One record: len 6, attr, ts 0, off 0, key -1, value -1, 0 headers.
        let good = Hex.bytes("0c 00 00 00 01 01 00")
        var buffer = ByteBuffer(bytes: good)
        #expect(try Record(decoding: &buffer).value == nil)
        let cases: [(String, String)] = [
            ("0e 00 00 00 01 01 00", "length longer than the bytes"),
            ("0a 00 00 00 01 01 00", "length shorter than the fields"),
            ("01 00 00 00 01 01 00", "negative length"),
            ("0c 00 00 00 03 01 00", "key length -2"),
            ("0c 00 00 00 01 01 01", "negative header count"),
            ("0c 00 00 00 01 01 02", "header count beyond the bytes"),
            ("0e 00 00 00 01 01 00 00", "bytes left inside the record"),
            ("10 00 00 00 01 01 02 01 01", "negative header key length"),
            ("12 00 00 00 01 01 02 00 03 00", "header value length -2"),
            ("0e 00 ff ff ff ff ff ff ff ff ff ff", "overlong varlong"),
        ]
        for (hex, why) in cases {
            var input = ByteBuffer(hex: hex)
            #expect(throws: RecordsError.self, "\(why)") { try Record(decoding: &input) }
        }
    }

    @Test func trailingBytesAfterTheLastRecordAreRejected() throws {
        var iterator = RecordIterator(declaredCount: 1, payload: ByteBuffer(hex: "0c 00 00 00 01 01 00 00"))
        #expect(try iterator.next() != nil)
        #expect(throws: RecordsError.invalidRecord("1 bytes follow the last of 1 records")) { try iterator.next() }
        var short = RecordIterator(declaredCount: 2, payload: ByteBuffer(hex: "0c 00 00 00 01 01 00"))
        #expect(try short.next() != nil)
        #expect(throws: RecordsError.countMismatch(declared: 2, found: 1)) { try short.next() }
    }

    @Test func unknownCompressionIdsAreRejected() throws {
        var bytes = TestBatches.simple(values: ["a"])
        bytes.setInteger(Int16(5), at: RecordBatchHeader.attributesOffset)
        bytes.updateBatchCRC(at: 0)
        let batch = try RecordBatch(validating: bytes)
        #expect(throws: RecordsError.unknownCompression(5)) { try batch.records() }
    }
}
