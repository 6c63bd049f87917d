import NIOCore
import RunnelRecords
import TestSupport
import Testing

@Suite struct CompressionTests {
    static let compressedCodecs: [CompressionCodec] = [.gzip, .snappy, .lz4, .zstd]

    static func sample(count: Int, seed: UInt64, compressible: Bool = true) -> ByteBuffer {
        var rng = SplitMix64(seed: seed)
        return ByteBuffer(bytes: TestBatches.randomBytes(count: count, using: &rng, compressible: compressible))
    }

    @Test(arguments: CompressionCodec.allCases)
    func everyCodecRoundTripsSmallAndLargeInputs(codec: CompressionCodec) throws {
        // 1 byte, odd sizes around block boundaries (32 KiB snappy, 64 KiB lz4) and a multi-block payload.
        for (index, size) in [1, 100, 32 * 1024 + 1, 64 * 1024 + 7, 300_000].enumerated() {
            for compressible in [true, false] {
                let input = Self.sample(count: size, seed: UInt64(index), compressible: compressible)
                let compressed = try codec.compress(input)
                let output = try codec.decompress(compressed, maxDecompressedBytes: size)
                #expect(output == input, "\(codec) size \(size) compressible \(compressible)")
                if codec != .none && compressible && size > 1000 {
                    #expect(compressed.readableBytes < size / 2, "\(codec) should shrink compressible data")
                }
            }
        }
    }

    @Test(arguments: compressedCodecs)
    func decompressionPastTheLimitFailsCleanly(codec: CompressionCodec) throws {
        // A "bomb": 8 MiB of zeros compresses to a few KiB.
        let bomb = ByteBuffer(repeating: 0, count: 8 * 1024 * 1024)
        let compressed = try codec.compress(bomb)
        #expect(compressed.readableBytes < 512 * 1024)
        #expect(throws: RecordsError.decompressedTooLarge(limit: 1 << 20)) {
            try codec.decompress(compressed, maxDecompressedBytes: 1 << 20)
        }
        // Exactly at the limit is fine; one byte under is not.
        #expect(try codec.decompress(compressed, maxDecompressedBytes: bomb.readableBytes).readableBytes == bomb.readableBytes)
        #expect(throws: RecordsError.decompressedTooLarge(limit: bomb.readableBytes - 1)) {
            try codec.decompress(compressed, maxDecompressedBytes: bomb.readableBytes - 1)
        }
    }

    @Test func uncompressedPayloadOverTheLimitIsRejected() {
        #expect(throws: RecordsError.decompressedTooLarge(limit: 3)) {
            try CompressionCodec.none.decompress(ByteBuffer(bytes: [1, 2, 3, 4]), maxDecompressedBytes: 3)
        }
    }

    @Test(arguments: compressedCodecs)
    func truncatedStreamsGiveTypedErrors(codec: CompressionCodec) throws {
        let input = Self.sample(count: 100_000, seed: 9)
        let compressed = try codec.compress(input)
        for cut in [0, 1, 5, 11, 17, compressed.readableBytes / 2, compressed.readableBytes - 1] {
            var truncated = compressed
            truncated.moveWriterIndex(to: truncated.readerIndex + cut)
            do {
                let output = try codec.decompress(truncated, maxDecompressedBytes: 1 << 20)
                // gzip and zstd cannot always tell a cut in the last bytes; never more than the original, though.
                #expect(output.readableBytes < input.readableBytes, "\(codec) cut at \(cut) decoded everything")
            } catch let error {
                switch error {
                case .compressionFailed, .decompressedTooLarge: break
                default: Issue.record("\(codec) cut at \(cut): unexpected \(error)")
                }
            }
        }
    }

    @Test(arguments: compressedCodecs)
    func flippedBytesNeverCrashTheDecoders(codec: CompressionCodec) throws {
        let input = Self.sample(count: 20_000, seed: 3)
        let compressed = try codec.compress(input)
        var rng = SplitMix64(seed: 77)
        for _ in 0..<300 {
            var corrupt = compressed
            let index = corrupt.readerIndex + Int.random(in: 0..<corrupt.readableBytes, using: &rng)
            let byte = corrupt.getInteger(at: index, as: UInt8.self) ?? 0
            corrupt.setInteger(byte ^ UInt8.random(in: 1...255, using: &rng), at: index)
            // Either an error or some bytes within the limit: never a crash or an unbounded allocation.
            if let output = try? codec.decompress(corrupt, maxDecompressedBytes: 1 << 20) {
                #expect(output.readableBytes <= 1 << 20)
            }
        }
    }

    @Test func gzipWritesOneGzipMember() throws {
        let compressed = try CompressionCodec.gzip.compress(ByteBuffer(string: "hello"))
        #expect(Array(compressed.readableBytesView.prefix(3)) == [0x1F, 0x8B, 0x08])
    }

    @Test func gzipReadsConcatenatedMembersAndIgnoresTrailingGarbage() throws {
        var joined = try CompressionCodec.gzip.compress(ByteBuffer(string: "hello "))
        joined.writeImmutableBuffer(try CompressionCodec.gzip.compress(ByteBuffer(string: "world")))
        #expect(try CompressionCodec.gzip.decompress(joined, maxDecompressedBytes: 100) == ByteBuffer(string: "hello world"))
        joined.writeBytes([0, 0, 0])
        #expect(try CompressionCodec.gzip.decompress(joined, maxDecompressedBytes: 100) == ByteBuffer(string: "hello world"))
    }

    @Test func snappyWritesXerialFraming() throws {
        let compressed = try CompressionCodec.snappy.compress(Self.sample(count: 70_000, seed: 1))
        let header = Array(compressed.readableBytesView.prefix(16))
        #expect(header == [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1])
        // 70 000 bytes in 32 KiB blocks: three length-prefixed blocks that exactly fill the rest.
        var rest = compressed
        rest.moveReaderIndex(forwardBy: 16)
        var blocks = 0
        while let length = rest.readInteger(as: Int32.self) {
            let block = rest.readSlice(length: Int(length))
            #expect(block != nil)
            blocks += 1
        }
        #expect(blocks == 3)
        #expect(rest.readableBytes == 0)
    }

    @Test func snappyReadsARawBlockAsLibrdkafkaWritesIt() throws {
        // A raw snappy block of "hello hello hello hello" (literal + copy), the librdkafka form.
        let framed = try CompressionCodec.snappy.compress(ByteBuffer(string: "hello hello hello hello"))
        var rest = framed
        rest.moveReaderIndex(forwardBy: 16)
        let lengthField = rest.readInteger(as: Int32.self)
        let length = try #require(lengthField)
        let slice = rest.readSlice(length: Int(length))
        let rawBlock = try #require(slice)
        #expect(try CompressionCodec.snappy.decompress(rawBlock, maxDecompressedBytes: 100)
            == ByteBuffer(string: "hello hello hello hello"))
        // A raw block declaring more than the limit is refused before decoding.
        #expect(throws: RecordsError.decompressedTooLarge(limit: 10)) {
            try CompressionCodec.snappy.decompress(rawBlock, maxDecompressedBytes: 10)
        }
    }

    @Test func lz4WritesKafkasFrameHeader() throws {
        let compressed = try CompressionCodec.lz4.compress(Self.sample(count: 1000, seed: 2))
        // magic 04 22 4d 18, FLG 0x60 (v01, independent blocks, no checksums/size), BD 0x40 (64 KiB), HC 0x82.
        #expect(Array(compressed.readableBytesView.prefix(7)) == [0x04, 0x22, 0x4D, 0x18, 0x60, 0x40, 0x82])
        #expect(Array(compressed.readableBytesView.suffix(4)) == [0, 0, 0, 0], "end mark, no content checksum")
    }

    @Test func lz4StoresIncompressibleBlocksUncompressed() throws {
        let input = Self.sample(count: 1000, seed: 5, compressible: false)
        let compressed = try CompressionCodec.lz4.compress(input)
        let sizeField = try #require(compressed.getInteger(at: 7, endianness: .little, as: UInt32.self))
        #expect(sizeField & 0x8000_0000 != 0, "bit 31: stored block")
        #expect(sizeField & 0x7FFF_FFFF == 1000)
    }

    @Test func zstdWritesAStandardFrameAndReadsConcatenatedFrames() throws {
        var joined = try CompressionCodec.zstd.compress(ByteBuffer(string: "abc"))
        #expect(Array(joined.readableBytesView.prefix(4)) == [0x28, 0xB5, 0x2F, 0xFD])
        joined.writeImmutableBuffer(try CompressionCodec.zstd.compress(ByteBuffer(string: "def")))
        #expect(try CompressionCodec.zstd.decompress(joined, maxDecompressedBytes: 6) == ByteBuffer(string: "abcdef"))
    }

    @Test func codecNamesParseKafkaSpellings() {
        #expect(CompressionCodec(name: "uncompressed") == CompressionCodec.none)
        #expect(CompressionCodec(name: "ZSTD") == .zstd)
        #expect(CompressionCodec(name: "producer") == nil)
    }
}
