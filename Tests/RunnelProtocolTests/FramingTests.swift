import NIOCore
import RunnelProtocol
import Testing

@Suite struct FramingTests {
    func frames(from chunks: [ByteBuffer], maximum: Int = 1024) throws -> [ByteBuffer] {
        let processor = NIOSingleStepByteToMessageProcessor(KafkaFrameDecoder(maximumFrameBytes: maximum))
        var frames: [ByteBuffer] = []
        for chunk in chunks {
            try processor.process(buffer: chunk) { frames.append($0) }
        }
        return frames
    }

    @Test func multipleFramesInOneReadAreAllYielded() throws {
        let stream = Hex.buffer("00000002 aabb 00000000 00000001 cc")
        let result = try frames(from: [stream])
        #expect(result == [Hex.buffer("aabb"), Hex.buffer(""), Hex.buffer("cc")])
    }

    @Test func partialFramesWaitForTheRest() throws {
        let stream = Hex.buffer("00000003 010203 00000001 04")
        var chunks: [ByteBuffer] = []
        for index in 0..<stream.readableBytes {
            chunks.append(try #require(stream.getSlice(at: index, length: 1)))
        }
        let processor = NIOSingleStepByteToMessageProcessor(KafkaFrameDecoder(maximumFrameBytes: 100))
        var received: [ByteBuffer] = []
        for (index, chunk) in chunks.enumerated() {
            try processor.process(buffer: chunk) { received.append($0) }
            // The first frame completes with its 7th byte, the second with the 12th.
            #expect(received.count == (index >= 11 ? 2 : index >= 6 ? 1 : 0))
        }
        #expect(received == [Hex.buffer("010203"), Hex.buffer("04")])
    }

    @Test func negativeSizeIsAnError() {
        #expect(throws: ProtocolError.negativeFrameSize(-1)) { try frames(from: [Hex.buffer("ffffffff 00")]) }
    }

    @Test func oversizedFrameIsRejectedBeforeItsBodyArrives() {
        #expect(throws: ProtocolError.frameTooLarge(size: 1025, maximum: 1024)) {
            try frames(from: [Hex.buffer("00000401")])
        }
        // Exactly the maximum is fine (and waits for its bytes).
        #expect(throws: Never.self) { _ = try frames(from: [Hex.buffer("00000400")]) }
    }

    @Test func defaultMaximumIsSocketRequestMaxBytes() {
        #expect(KafkaFrameDecoder().maximumFrameBytes == 104_857_600)
    }

    @Test func encoderPrefixesSizeAndCoalescesSmallHeads() {
        let frame = OutboundFrame(parts: [Hex.buffer("0102"), Hex.buffer("030405")])
        let buffers = KafkaFrameEncoder.buffers(for: frame, allocator: ByteBufferAllocator(), coalesceLimit: 16)
        #expect(buffers == [Hex.buffer("00000005 0102"), Hex.buffer("030405")])
        let uncoalesced = KafkaFrameEncoder.buffers(for: frame, allocator: ByteBufferAllocator(), coalesceLimit: 1)
        #expect(uncoalesced == [Hex.buffer("00000005"), Hex.buffer("0102"), Hex.buffer("030405")])
    }

    @Test func largeFetchRecordsAreNotCopiedIntoTheResponse() throws {
        var records = ByteBufferAllocator().buffer(capacity: 64 * 1024)
        records.writeBytes([UInt8](repeating: 7, count: 64 * 1024))
        let response = FetchResponse(
            responses: [.init(topic: "t", partitions: [.init(partitionIndex: 0, highWatermark: 10, records: records)])])
        let zeroCopy = response.frame(version: 12, correlationId: 9)
        #expect(zeroCopy.parts.count == 3)
        let recordsPart = zeroCopy.parts[1]
        let sameStorage =
            recordsPart.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
            == records.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        #expect(sameStorage)
        let copied = response.frame(version: 12, correlationId: 9, zeroCopyThreshold: nil)
        #expect(copied.parts.count == 1)
        #expect(zeroCopy.contiguousBytes() == copied.contiguousBytes())
        // The framed bytes decode back (header v1 for flexible Fetch: correlation id + empty tags).
        var bytes = copied.contiguousBytes()
        #expect(bytes.readInteger(as: Int32.self) == Int32(copied.byteCount))
        var reader = MessageReader(bytes)
        let header = try ResponseHeader(from: &reader, version: 1)
        #expect(header.correlationId == 9)
        #expect(try FetchResponse(from: &reader, version: 12) == response)
    }
}
