import NIOCore

/// Hex helpers for byte-exact expectations.
enum Hex {
    /// Bytes from hex text; whitespace is ignored.
    static func bytes(_ text: String) -> [UInt8] {
        let digits = text.filter { !$0.isWhitespace }.map { $0 }
        precondition(digits.count % 2 == 0, "odd hex digit count")
        return stride(from: 0, to: digits.count, by: 2).map { i in
            // Test-literal input, known-good hex.
            UInt8(String(digits[i...i + 1]), radix: 16) ?? 0
        }
    }

    static func string(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}

extension ByteBuffer {
    init(hex: String) { self.init(bytes: Hex.bytes(hex)) }
    var readableArray: [UInt8] { Array(readableBytesView) }
}
