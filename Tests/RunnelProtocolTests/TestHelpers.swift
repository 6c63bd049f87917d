import NIOCore
import RunnelProtocol
import Testing

/// Hex helpers and a round-trip checker shared by the protocol tests.
enum Hex {
    /// Parses hex digits, ignoring spaces, newlines and `|`.
    static func buffer(_ text: String) -> ByteBuffer {
        let digits = text.unicodeScalars.filter { CharacterSet.isHexDigit($0) }
        var buffer = ByteBufferAllocator().buffer(capacity: digits.count / 2)
        var pending: UInt8? = nil
        for scalar in digits {
            let value = UInt8(Int(String(scalar), radix: 16) ?? 0)
            if let high = pending {
                buffer.writeInteger(high << 4 | value)
                pending = nil
            } else {
                pending = value
            }
        }
        return buffer
    }

    static func string(_ buffer: ByteBuffer) -> String {
        buffer.readableBytesView.map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }
}

enum CharacterSet {
    static func isHexDigit(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "0"..."9", "a"..."f", "A"..."F": true
        default: false
        }
    }
}

/// Encodes `value` at `version`, decodes it back, and checks equality, full consumption and byte-stable re-encoding.
func expectRoundTrip<M: KafkaMessage>(
    _ value: M, version: Int16, sourceLocation: SourceLocation = #_sourceLocation
) {
    let bytes = value.encoded(version: version)
    var reader = MessageReader(bytes)
    do {
        let decoded = try M(from: &reader, version: version)
        #expect(decoded == value, "\(M.self) v\(version) decoded differently", sourceLocation: sourceLocation)
        #expect(reader.remainingBytes == 0, "\(M.self) v\(version) left bytes unread", sourceLocation: sourceLocation)
        #expect(
            decoded.encoded(version: version) == bytes, "\(M.self) v\(version) re-encoded differently",
            sourceLocation: sourceLocation)
    } catch {
        Issue.record("\(M.self) v\(version) failed to decode its own encoding: \(error)", sourceLocation: sourceLocation)
    }
}

/// Every prefix shorter than the full encoding must throw (and never trap).
func expectEveryTruncationThrows<M: KafkaMessage>(
    _ value: M, version: Int16, sourceLocation: SourceLocation = #_sourceLocation
) {
    let bytes = value.encoded(version: version)
    for length in 0..<bytes.readableBytes {
        guard let prefix = bytes.getSlice(at: bytes.readerIndex, length: length) else { continue }
        var reader = MessageReader(prefix)
        #expect(
            throws: ProtocolError.self, "\(M.self) v\(version) accepted a \(length)-byte prefix",
            sourceLocation: sourceLocation
        ) {
            _ = try M(from: &reader, version: version)
        }
    }
}
