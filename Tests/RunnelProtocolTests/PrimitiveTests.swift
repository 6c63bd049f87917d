import NIOCore
import Testing

@testable import RunnelProtocol

@Suite struct PrimitiveTests {
    @Test func unsignedVarintsMatchKafkaVectors() throws {
        let vectors: [(UInt32, String)] = [
            (0, "00"), (1, "01"), (127, "7f"), (128, "8001"), (300, "ac02"), (16383, "ff7f"), (16384, "808001"),
            (UInt32.max, "ffffffff0f"),
        ]
        for (value, hex) in vectors {
            var writer = MessageWriter()
            writer.writeUnsignedVarint(value)
            #expect(Hex.string(writer.buffer) == hex)
            #expect(MessageWriter.unsignedVarintSize(value) == hex.count / 2)
            var reader = MessageReader(Hex.buffer(hex))
            #expect(try reader.readUnsignedVarint() == value)
        }
    }

    @Test func overlongVarintIsRejected() {
        var fiveBytesTooBig = MessageReader(Hex.buffer("ffffffff1f"))
        #expect(throws: ProtocolError.invalidVarint) { try fiveBytesTooBig.readUnsignedVarint() }
        var truncated = MessageReader(Hex.buffer("ff"))
        #expect(throws: ProtocolError.truncated(needed: 1, available: 0)) { try truncated.readUnsignedVarint() }
    }

    @Test func fixedWidthReadsAreBigEndianAndBoundsChecked() throws {
        var reader = MessageReader(Hex.buffer("0102 03040506 01"))
        #expect(try reader.readInt16() == 0x0102)
        #expect(try reader.readInt32() == 0x0304_0506)
        #expect(try reader.readBool())
        #expect(throws: ProtocolError.truncated(needed: 8, available: 0)) { try reader.readInt64() }
    }

    @Test func stringsUseInt16OrCompactLengths() throws {
        var writer = MessageWriter()
        writer.writeString("héllo", compact: false)
        writer.writeString("héllo", compact: true)
        writer.writeNullableString(nil, compact: false)
        writer.writeNullableString(nil, compact: true)
        #expect(Hex.string(writer.buffer) == "000668c3a96c6c6f" + "0768c3a96c6c6f" + "ffff" + "00")
        var reader = MessageReader(writer.buffer)
        #expect(try reader.readString(compact: false) == "héllo")
        #expect(try reader.readString(compact: true) == "héllo")
        #expect(try reader.readNullableString(compact: false) == nil)
        #expect(try reader.readNullableString(compact: true) == nil)
    }

    @Test func nullWhereNotAllowedIsRejected() {
        var reader = MessageReader(Hex.buffer("ffff"))
        #expect(throws: ProtocolError.unexpectedNull) { try reader.readString(compact: false) }
        var bytes = MessageReader(Hex.buffer("00"))
        #expect(throws: ProtocolError.unexpectedNull) { try bytes.readBytes(compact: true) }
    }

    @Test func lengthsBeyondTheRemainingBytesAreRejectedBeforeAllocating() {
        var string = MessageReader(Hex.buffer("7fff 6162"))
        #expect(throws: ProtocolError.lengthExceedsRemaining(length: 32767, remaining: 2)) {
            try string.readString(compact: false)
        }
        var bytes = MessageReader(Hex.buffer("7fffffff 00"))
        #expect(throws: ProtocolError.lengthExceedsRemaining(length: Int(Int32.max), remaining: 1)) {
            try bytes.readBytes(compact: false)
        }
        var negative = MessageReader(Hex.buffer("fffe"))
        #expect(throws: ProtocolError.negativeLength(-2)) { try negative.readString(compact: false) }
        // A huge array count must fail at once, not try to reserve 2^31 elements.
        var array = MessageReader(Hex.buffer("7fffffff 00000001"))
        #expect(throws: ProtocolError.lengthExceedsRemaining(length: Int(Int32.max), remaining: 4)) {
            try array.readArray(of: Int32.self, compact: false, version: 0)
        }
        var compactArray = MessageReader(Hex.buffer("0a 00000001"))  // 9 int32 elements claimed, 4 bytes left
        #expect(throws: ProtocolError.lengthExceedsRemaining(length: 9, remaining: 4)) {
            try compactArray.readArray(of: Int32.self, compact: true, version: 0)
        }
    }

    @Test func arraysOfPrimitivesRoundTrip() throws {
        var writer = MessageWriter()
        writer.writeArray([Int32(1), -1], compact: false, version: 0)
        writer.writeNullableArray([String]?.none, compact: true, version: 0)
        writer.writeArray(["x", "yz"], compact: true, version: 0)
        #expect(Hex.string(writer.buffer) == "00000002" + "00000001" + "ffffffff" + "00" + "03" + "0278" + "03797a")
        var reader = MessageReader(writer.buffer)
        #expect(try reader.readArray(of: Int32.self, compact: false, version: 0) == [1, -1])
        #expect(try reader.readNullableArray(of: String.self, compact: true, version: 0) == nil)
        #expect(try reader.readArray(of: String.self, compact: true, version: 0) == ["x", "yz"])
    }

    @Test func uuidTextFormIsUnpaddedURLSafeBase64() throws {
        let uuid = KafkaUUID(mostSignificantBits: 0xFBFF_FFFF_FFFF_FFFF, leastSignificantBits: 0x0000_0000_0000_0001)
        #expect(uuid.description.count == 22)
        #expect(uuid.description.hasPrefix("-_"))
        #expect(KafkaUUID(kafkaString: uuid.description) == uuid)
        #expect(KafkaUUID.zero.description == "AAAAAAAAAAAAAAAAAAAAAA")
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<100 {
            let random = KafkaUUID.random(using: &generator)
            #expect(random != .zero)
            #expect(!random.description.hasPrefix("-"))
            #expect(KafkaUUID(kafkaString: random.description) == random)
        }
        #expect(KafkaUUID(kafkaString: "too short") == nil)
    }

    @Test func taggedFieldsOutOfOrderAreRejected() {
        // Two tagged fields, tag 1 then tag 0.
        var reader = MessageReader(Hex.buffer("02 01 00 00 00"))
        #expect(throws: ProtocolError.taggedFieldsOutOfOrder(previous: 1, tag: 0)) {
            try reader.readUnknownTaggedFields()
        }
        var repeated = MessageReader(Hex.buffer("02 03 00 03 00"))
        #expect(throws: ProtocolError.taggedFieldsOutOfOrder(previous: 3, tag: 3)) {
            try repeated.readUnknownTaggedFields()
        }
    }

    @Test func unknownTaggedFieldsSurviveDecodeAndEncode() throws {
        // ApiVersionsRequest v3 body with an extra tag 7 (2 bytes) in its tagged section.
        let bytes = Hex.buffer("06 7377696674 04 312e30 01 07 02 abcd")
        var reader = MessageReader(bytes)
        let request = try ApiVersionsRequest(from: &reader, version: 3)
        #expect(request.clientSoftwareName == "swift")
        #expect(request.unknownTaggedFields == [RawTaggedField(tag: 7, data: Hex.buffer("abcd"))])
        #expect(request.encoded(version: 3) == bytes)
    }

    @Test func knownAndUnknownTaggedFieldsAreWrittenInTagOrder() throws {
        var response = ApiVersionsResponse()
        response.finalizedFeaturesEpoch = 5  // tag 1
        response.zkMigrationReady = true  // tag 3
        response.unknownTaggedFields = [RawTaggedField(tag: 5, data: Hex.buffer("ee")), RawTaggedField(tag: 9, data: Hex.buffer(""))]
        let bytes = response.encoded(version: 3)
        // error 0, empty api keys (01), throttle 0, then 4 tags: 1, 3 (known), 5, 9 (unknown), merged by tag.
        let expected = "0000" + "01" + "00000000" + "04" + "0108" + "0000000000000005" + "030101" + "0501ee" + "0900"
        #expect(Hex.string(bytes) == expected)
        expectRoundTrip(response, version: 3)
    }

    @Test func tagInKnownRangeButUnknownVersionIsKeptRaw() throws {
        // Body of ApiVersionsRequest v3 with tag 0: this schema knows no tags for ApiVersionsRequest.
        let bytes = Hex.buffer("02 61 02 62 01 00 01 ff")
        let request = try ApiVersionsRequest(from: bytes, version: 3)
        #expect(request.unknownTaggedFields.count == 1)
        #expect(request.encoded(version: 3) == bytes)
    }

    @Test func recordsAreSlicesOfTheInputNotCopies() throws {
        var records = ByteBufferAllocator().buffer(capacity: 100)
        records.writeBytes([UInt8](repeating: 0xAB, count: 100))
        let produce = ProduceRequest(
            acks: -1, timeoutMs: 1000,
            topicData: [.init(name: "t", partitionData: [.init(index: 0, records: records)])])
        let frame = produce.encoded(version: 9)
        let decoded = try ProduceRequest(from: frame, version: 9)
        let slice = try #require(decoded.topicData.first?.partitionData.first?.records)
        #expect(slice == records)
        let frameStart = frame.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        let sliceStart = slice.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        #expect(sliceStart > frameStart && sliceStart < frameStart + UInt(frame.readableBytes))
    }

    @Test func nullableStructMarkerIsWrittenOnlyInNullableVersions() throws {
        // ConsumerGroupHeartbeatResponse.Assignment is nullable (int8 marker) in every version.
        var response = ConsumerGroupHeartbeatResponse()
        response.assignment = nil
        let nullBytes = response.encoded(version: 0)
        expectRoundTrip(response, version: 0)
        response.assignment = .init(topicPartitions: [.init(topicId: KafkaUUID.zero, partitions: [1])])
        let presentBytes = response.encoded(version: 0)
        expectRoundTrip(response, version: 0)
        #expect(presentBytes.readableBytes > nullBytes.readableBytes)
    }
}
