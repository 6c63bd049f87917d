import NIOCore
import PropertyBased
import RunnelRecords
import TestSupport
import Testing

@Suite struct RecordBatchPropertyTests {
    static let codecs = Gen.int(in: 0...4).map { CompressionCodec(rawValue: $0) ?? .none }

    @Test func encodeThenDecodeIsTheIdentityForRandomBatches() async {
        await propertyCheck(count: 150, input: Gen.uint64(), Self.codecs, Gen.int(in: 1...40)) { seed, codec, count
            async throws in
            var rng = SplitMix64(seed: seed)
            let records = TestBatches.randomRecords(
                count: count, using: &rng, baseTimestamp: Int64.random(in: -1...2_000_000_000_000, using: &rng))
            let producerId = Bool.random(using: &rng) ? Int64.random(in: 0...Int64.max, using: &rng) : -1
            let baseOffset = Int64.random(in: 0...1 << 50, using: &rng)
            let bytes = TestBatches.make(
                records, compression: codec, baseOffset: baseOffset, producerId: producerId,
                producerEpoch: producerId >= 0 ? 3 : -1, baseSequence: producerId >= 0 ? 17 : -1)
            let batch = try RecordBatch(validating: bytes)
            #expect(batch.header.attributes.compression == codec)
            #expect(batch.header.recordsCount == Int32(count))
            #expect(batch.header.maxTimestamp == records.map(\.timestamp).max())
            #expect(batch.header.producerId == producerId)
            let decoded = try batch.records()
            #expect(decoded.map { $0.offset(in: batch.header) } == (0..<Int64(count)).map { baseOffset + $0 })
            #expect(try TestBatches.decode(bytes) == records)
            #expect(try RecordBatchValidator.validateForProduce(
                batch, options: .init(verifyRecords: true)).recordsCount == count)
        }
    }

    @Test func randomByteFlipsInTheCoveredRegionAreCaughtByTheCRC() async {
        await propertyCheck(count: 200, input: Gen.uint64(), Self.codecs) { seed, codec async throws in
            var rng = SplitMix64(seed: seed)
            let (bytes, _) = TestBatches.make(seed: seed, recordCount: Int.random(in: 1...10, using: &rng), compression: codec)
            var corrupt = bytes
            let index = Int.random(in: RecordBatchHeader.attributesOffset..<bytes.readableBytes, using: &rng)
            let byte = corrupt.getInteger(at: index, as: UInt8.self) ?? 0
            corrupt.setInteger(byte ^ UInt8.random(in: 1...255, using: &rng), at: index)
            #expect(throws: RecordsError.self) { try RecordBatch(validating: corrupt) }
            #expect(!(try RecordBatch(unverified: corrupt).hasValidCRC) || index < RecordBatchHeader.size)
        }
    }
}
