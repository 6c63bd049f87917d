import NIOCore
import RunnelRecords
import Testing

@Suite struct CRC32CTests {
    static let vectors: [([UInt8], UInt32)] = [
        ([], 0x0000_0000),
        (Array("a".utf8), 0xC1D0_4330),
        (Array("123456789".utf8), 0xE306_9283),
        ([UInt8](repeating: 0, count: 32), 0x8A91_36AA),
        ([UInt8](repeating: 0xFF, count: 32), 0x62A8_AB43),
        (Array(0...0x1F), 0x46DD_794E),
        (Array("The quick brown fox jumps over the lazy dog".utf8), 0x2262_0404),
    ]

    @Test func checksumsMatchTheSpecVectors() {
        for (input, expected) in Self.vectors {
            #expect(CRC32C.checksum(input) == expected, "input of \(input.count) bytes")
            #expect(CRC32C.portableChecksum(input) == expected, "portable, input of \(input.count) bytes")
        }
    }

    @Test func hardwareAndPortablePathsAgreeOnOddLengthsAndOffsets() {
        var rng = SystemRandomNumberGenerator()
        for length in 0..<300 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(CRC32C.checksum(bytes) == CRC32C.portableChecksum(bytes))
            if length > 3 {
                let sliced = Array(bytes[3...])
                #expect(CRC32C.checksum(bytes[3...]) == CRC32C.portableChecksum(sliced))
            }
        }
    }

    @Test func extendingPiecewiseEqualsOneShot() {
        let bytes = Array("123456789".utf8)
        let partial = CRC32C.extend(0, bytes[0..<4])
        #expect(CRC32C.extend(partial, bytes[4...]) == 0xE306_9283)
    }

    @Test func bufferRangeChecksumMatches() {
        var buffer = ByteBuffer()
        buffer.writeBytes([9, 9] + Array("123456789".utf8))
        buffer.moveReaderIndex(forwardBy: 1)
        #expect(CRC32C.checksum(of: buffer, at: 2, length: 9) == 0xE306_9283)
        #expect(CRC32C.checksum(of: buffer, at: 0, length: 9) == nil, "before the reader index")
        #expect(CRC32C.checksum(of: buffer, at: 3, length: 9) == nil, "past the writer index")
    }
}
