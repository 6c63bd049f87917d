import NIOCore
import PropertyBased
import RunnelRecords
import Testing

@Suite struct VarintTests {
    static let signedVectors: [(Int32, String)] = [
        (0, "00"), (-1, "01"), (1, "02"), (-2, "03"), (2, "04"), (63, "7e"), (-64, "7f"), (64, "8001"),
        (300, "d804"), (-300, "d704"), (Int32.max, "feffffff0f"), (Int32.min, "ffffffff0f"),
    ]
    static let longVectors: [(Int64, String)] = [
        (1_700_000_000_000, "80a0abfef962"), (Int64.max, "fe" + String(repeating: "ff", count: 8) + "01"),
        (Int64.min, String(repeating: "ff", count: 9) + "01"),
    ]
    static let unsignedVectors: [(UInt32, String)] = [
        (0, "00"), (1, "01"), (127, "7f"), (128, "8001"), (300, "ac02"), (16383, "ff7f"), (16384, "808001"),
        (UInt32.max, "ffffffff0f"),
    ]

    @Test func signedVarintsMatchTheSpecVectors() throws {
        for (value, hex) in Self.signedVectors {
            var buffer = ByteBuffer()
            let written = buffer.writeVarint(value)
            #expect(Hex.string(buffer.readableBytesView) == hex, "encoding \(value)")
            #expect(written == hex.count / 2)
            #expect(Varint.size(of: value) == hex.count / 2)
            #expect(try buffer.readVarint() == value)
            #expect(buffer.readableBytes == 0)
        }
    }

    @Test func varlongsMatchTheSpecVectors() throws {
        for (value, hex) in Self.longVectors {
            var buffer = ByteBuffer()
            buffer.writeVarlong(value)
            #expect(Hex.string(buffer.readableBytesView) == hex, "encoding \(value)")
            #expect(Varint.size(of: value) == hex.count / 2)
            #expect(try buffer.readVarlong() == value)
        }
    }

    @Test func unsignedVarintsMatchTheSpecVectors() throws {
        for (value, hex) in Self.unsignedVectors {
            var buffer = ByteBuffer()
            buffer.writeUnsignedVarint(value)
            #expect(Hex.string(buffer.readableBytesView) == hex, "encoding \(value)")
            #expect(Varint.size(ofUnsigned: value) == hex.count / 2)
            #expect(try buffer.readUnsignedVarint() == value)
        }
    }

    @Test func aSixthVarintByteIsRejected() {
        var buffer = ByteBuffer(hex: "ffffffff8f01")
        #expect(throws: RecordsError.malformedVarint) { try buffer.readVarint() }
        #expect(buffer.readerIndex == 0, "a failed read leaves the reader index alone")
    }

    @Test func anEleventhVarlongByteIsRejected() {
        var buffer = ByteBuffer(hex: String(repeating: "ff", count: 10) + "01")
        #expect(throws: RecordsError.malformedVarint) { try buffer.readVarlong() }
    }

    @Test func aVarintCutShortIsRejected() {
        for hex in ["", "80", "ffff", "ffffffff"] {
            var buffer = ByteBuffer(hex: hex)
            #expect(throws: RecordsError.malformedVarint) { try buffer.readVarint() }
        }
    }

    @Test func anyInt64RoundTripsAsAVarlong() async {
        await propertyCheck(count: 300, input: Gen.int64()) { value async throws in
            var buffer = ByteBuffer()
            let written = buffer.writeVarlong(value)
            #expect(written == Varint.size(of: value))
            #expect(try buffer.readVarlong() == value)
        }
    }

    @Test func anyInt32RoundTripsAsAVarint() async {
        await propertyCheck(count: 300, input: Gen.int32()) { value async throws in
            var buffer = ByteBuffer()
            buffer.writeVarint(value)
            #expect(buffer.readableBytes <= 5)
            #expect(try buffer.readVarint() == value)
            #expect(ZigZag.decode(ZigZag.encode(value)) == value)
        }
    }
}
