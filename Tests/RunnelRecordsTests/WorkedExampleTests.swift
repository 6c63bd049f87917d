import NIOCore
import RunnelRecords
import Testing

/// KAFKA-FORMATS §2.10: a 91-byte uncompressed batch built by kafka-python, CRC checked with Java's CRC32C.
@Suite struct WorkedExampleTests {
    static let expectedHex = """
        0000000000000000 0000004f 00000000 02 4469c88d 0000 00000001
        0000018bcfe56800 0000018bcfe56805 ffffffffffffffff ffff ffffffff 00000002
        1a 00 00 00 04 6b31 0a 68656c6c6f 00
        1e 00 0a 02 01 0a 776f726c64 02 02 68 02 76
        """

    static func build() throws -> ByteBuffer {
        var builder = RecordBatchBuilder(partitionLeaderEpoch: 0)
        builder.append(timestamp: 1_700_000_000_000, key: Array("k1".utf8), value: Array("hello".utf8))
        builder.append(
            timestamp: 1_700_000_000_005, key: nil, value: Array("world".utf8),
            headers: [RecordHeader(key: "h", utf8Value: "v")])
        return try builder.build()
    }

    @Test func builderReproducesTheWorkedExampleByteForByte() throws {
        let batch = try Self.build()
        #expect(batch.readableBytes == 91)
        #expect(Hex.string(batch.readableBytesView) == Hex.string(Hex.bytes(Self.expectedHex)))
    }

    @Test func workedExampleCRCIsOverBytes21ToTheEnd() {
        let bytes = Hex.bytes(Self.expectedHex)
        #expect(CRC32C.checksum(bytes[21...]) == 0x4469_C88D)
        #expect(CRC32C.portableChecksum(Array(bytes[21...])) == 0x4469_C88D)
    }

    @Test func workedExampleParsesBack() throws {
        let batch = try RecordBatch(validating: ByteBuffer(hex: Self.expectedHex))
        let header = batch.header
        #expect(header.baseOffset == 0)
        #expect(header.batchLength == 79)
        #expect(header.partitionLeaderEpoch == 0)
        #expect(header.crc == 0x4469_C88D)
        #expect(header.lastOffsetDelta == 1)
        #expect(header.baseTimestamp == 1_700_000_000_000)
        #expect(header.maxTimestamp == 1_700_000_000_005)
        #expect(header.producerId == -1 && header.producerEpoch == -1 && header.baseSequence == -1)
        #expect(header.recordsCount == 2)
        let records = try batch.records()
        #expect(records.count == 2)
        #expect(records[0].keyBytes == Array("k1".utf8))
        #expect(records[0].valueBytes == Array("hello".utf8))
        #expect(records[0].headers.isEmpty)
        #expect(records[0].timestamp(in: header) == 1_700_000_000_000)
        #expect(records[0].offset(in: header) == 0)
        #expect(records[1].key == nil)
        #expect(records[1].valueBytes == Array("world".utf8))
        #expect(records[1].headers == [RecordHeader(key: "h", value: [0x76])])
        #expect(records[1].timestamp(in: header) == 1_700_000_000_005)
        #expect(records[1].offset(in: header) == 1)
    }

    @Test func rewritingBaseOffsetAndLeaderEpochKeepsTheCRCValid() throws {
        var buffer = ByteBuffer(hex: Self.expectedHex)
        buffer.setBatchBaseOffset(1234, at: 0)
        buffer.setBatchPartitionLeaderEpoch(7, at: 0)
        let batch = try RecordBatch(validating: buffer)
        #expect(batch.header.baseOffset == 1234)
        #expect(batch.header.partitionLeaderEpoch == 7)
        #expect(try batch.records()[1].offset(in: batch.header) == 1235)
    }

    @Test func recordEncodesAsInTheSpecLayout() throws {
        let record = Record(
            offsetDelta: 1, timestampDelta: 5, key: nil, value: ByteBuffer(string: "world"),
            headers: [RecordHeader(key: "h", utf8Value: "v")])
        var buffer = ByteBuffer()
        record.write(to: &buffer)
        #expect(Hex.string(buffer.readableBytesView) == "1e000a02010a776f726c6402026802" + "76")
        #expect(record.encodedSize == buffer.readableBytes)
        #expect(try Record(decoding: &buffer) == record)
    }
}
