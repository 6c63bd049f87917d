public import NIOCore

/// Formats consumed records with kcat-style placeholders, writing bytes straight into an output buffer.
///
/// | token | output |
/// |---|---|
/// | `%t` | topic |
/// | `%p` | partition |
/// | `%o` | offset |
/// | `%T` | timestamp (ms since the epoch) |
/// | `%k` / `%K` | key / key length (-1 for null) |
/// | `%s` / `%S` | value / value length (-1 for null) |
/// | `%h` | headers as `k1=v1,k2=v2` |
/// | `%%` | a percent sign |
/// | `\n \t \r \0 \\ \xHH` | the escaped byte |
///
/// A null key or value prints as nothing (kcat's default). Unknown `%x` tokens are an error at parse time.
public struct RecordFormatter: Sendable, Equatable {
    public enum Token: Sendable, Equatable {
        case literal([UInt8])
        case topic, partition, offset, timestamp, key, keyLength, value, valueLength, headers
    }

    public let tokens: [Token]

    /// kcat's default consumer format: the value and a newline.
    public static let defaultFormat = "%s\\n"

    /// Parses a format string.
    /// - Throws: ``ClientError/invalidArgument(_:)`` naming the bad token.
    public init(format: String) throws(ClientError) {
        guard let bytes = EscapeSequences.unescape(format) ?? Self.rawIfNoEscapes(format) else {
            throw .invalidArgument("invalid escape in format '\(format)' (use \\n, \\t, \\r, \\0, \\\\ or \\xHH)")
        }
        var tokens: [Token] = []
        var literal: [UInt8] = []
        var iterator = bytes.makeIterator()
        func flush() {
            if !literal.isEmpty {
                tokens.append(.literal(literal))
                literal.removeAll()
            }
        }
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                literal.append(byte)
                continue
            }
            guard let code = iterator.next() else { throw .invalidArgument("format '\(format)' ends with a lone %") }
            let token: Token
            switch code {
            case UInt8(ascii: "%"):
                literal.append(code)
                continue
            case UInt8(ascii: "t"): token = .topic
            case UInt8(ascii: "p"): token = .partition
            case UInt8(ascii: "o"): token = .offset
            case UInt8(ascii: "T"): token = .timestamp
            case UInt8(ascii: "k"): token = .key
            case UInt8(ascii: "K"): token = .keyLength
            case UInt8(ascii: "s"): token = .value
            case UInt8(ascii: "S"): token = .valueLength
            case UInt8(ascii: "h"): token = .headers
            default:
                throw .invalidArgument(
                    "unknown placeholder %\(Character(Unicode.Scalar(code))) in format '\(format)' (use %t %p %o %T %k %K %s %S %h %%)"
                )
            }
            flush()
            tokens.append(token)
        }
        flush()
        self.tokens = tokens
    }

    private static func rawIfNoEscapes(_ text: String) -> [UInt8]? { text.contains("\\") ? nil : Array(text.utf8) }

    /// Appends the formatted record to `output`.
    public func write(_ record: ConsumerRecord, to output: inout ByteBuffer) {
        for token in tokens {
            switch token {
            case .literal(let bytes): output.writeBytes(bytes)
            case .topic: output.writeString(record.topic)
            case .partition: Self.writeDecimal(Int64(record.partition), to: &output)
            case .offset: Self.writeDecimal(record.offset, to: &output)
            case .timestamp: Self.writeDecimal(record.timestamp, to: &output)
            case .key: if let key = record.key { output.writeImmutableBuffer(key) }
            case .keyLength: Self.writeDecimal(Int64(record.key?.readableBytes ?? -1), to: &output)
            case .value: if let value = record.value { output.writeImmutableBuffer(value) }
            case .valueLength: Self.writeDecimal(Int64(record.value?.readableBytes ?? -1), to: &output)
            case .headers:
                for (index, header) in record.headers.enumerated() {
                    if index > 0 { output.writeInteger(UInt8(ascii: ",")) }
                    output.writeString(header.key)
                    output.writeInteger(UInt8(ascii: "="))
                    if let value = header.value { output.writeBytes(value) }
                }
            }
        }
    }

    /// The formatted record as a string (tests, small outputs).
    public func string(for record: ConsumerRecord) -> String {
        var buffer = ByteBuffer()
        write(record, to: &buffer)
        return String(buffer: buffer)
    }

    /// Writes `value` in decimal without allocating a String.
    static func writeDecimal(_ value: Int64, to output: inout ByteBuffer) {
        if value == 0 {
            output.writeInteger(UInt8(ascii: "0"))
            return
        }
        var digits: (UInt64, Int) = (value.magnitude, 0)
        var scratch: [UInt8] = []
        scratch.reserveCapacity(20)
        while digits.0 > 0 {
            scratch.append(UInt8(ascii: "0") + UInt8(digits.0 % 10))
            digits.0 /= 10
            digits.1 += 1
        }
        if value < 0 { output.writeInteger(UInt8(ascii: "-")) }
        output.writeBytes(scratch.reversed())
    }
}
