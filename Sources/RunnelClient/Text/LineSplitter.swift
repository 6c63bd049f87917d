public import NIOCore

/// Splits a byte stream, fed in chunks of any size, into records at a delimiter (default `\n`), handing out
/// each record as a slice of the chunk: no per-line allocation or copy. Only a record that straddles two chunks
/// is copied (the tail of one chunk is joined with the next).
///
/// A delimiter split across chunks is found, since the carried tail is searched together with the next chunk.
/// At end of input, ``finish()`` returns the last record if the input did not end with a delimiter.
public struct LineSplitter: Sendable {
    public let delimiter: [UInt8]
    private var remainder: ByteBuffer?

    /// - Precondition: `delimiter` is not empty.
    public init(delimiter: [UInt8] = [UInt8(ascii: "\n")]) {
        precondition(!delimiter.isEmpty, "the delimiter must not be empty")
        self.delimiter = delimiter
    }

    /// Bytes carried over from the previous chunk (a partial record).
    public var pendingBytes: Int { remainder?.readableBytes ?? 0 }

    /// Feeds the next chunk and calls `body` with every record it completes, in order.
    public mutating func feed(_ chunk: ByteBuffer, _ body: (ByteBuffer) throws -> Void) rethrows {
        var data: ByteBuffer
        if var carried = remainder.take(), carried.readableBytes > 0 {
            carried.reserveCapacity(minimumWritableBytes: chunk.readableBytes)
            carried.writeImmutableBuffer(chunk)
            data = carried
        } else {
            data = chunk
        }
        let hits = DelimiterSearch.occurrences(of: delimiter, in: data)
        var start = 0
        let base = data.readerIndex
        for hit in hits {
            // hit >= start and hit < readableBytes: occurrences are ascending and within the readable bytes.
            if let line = data.getSlice(at: base + start, length: hit - start) { try body(line) }
            start = hit + delimiter.count
        }
        data.moveReaderIndex(forwardBy: start)
        remainder = data.readableBytes > 0 ? data : nil
    }

    /// The final record when the input did not end with a delimiter (nil if it did, or was empty).
    public mutating func finish() -> ByteBuffer? {
        defer { remainder = nil }
        guard let last = remainder, last.readableBytes > 0 else { return nil }
        return last
    }

    /// Splits `line` at the first occurrence of `separator`: (before, after), or nil when it does not occur.
    /// Both parts are slices of `line`.
    public static func splitFirst(_ line: ByteBuffer, at separator: [UInt8]) -> (ByteBuffer, ByteBuffer)? {
        guard let offset = DelimiterSearch.first(of: separator, in: line),
            let before = line.getSlice(at: line.readerIndex, length: offset),
            let after = line.getSlice(
                at: line.readerIndex + offset + separator.count,
                length: line.readableBytes - offset - separator.count)
        else { return nil }
        return (before, after)
    }

    /// Parses a delimiter option: `\n`, `\t`, `\r`, `\0`, `\\` and `\xHH` escapes; anything else literally.
    /// Returns nil for an empty delimiter or a bad escape.
    public static func parseDelimiter(_ text: String) -> [UInt8]? {
        guard let bytes = EscapeSequences.unescape(text), !bytes.isEmpty else { return nil }
        return bytes
    }
}

/// Backslash escapes of the CLI's delimiter and format options.
public enum EscapeSequences {
    /// `\n \t \r \0 \\ \xHH` to bytes; nil for an unknown or truncated escape.
    public static func unescape(_ text: String) -> [UInt8]? {
        var result: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while let byte = bytes.popFirst() {
            guard byte == UInt8(ascii: "\\") else {
                result.append(byte)
                continue
            }
            guard let next = bytes.popFirst() else { return nil }
            switch next {
            case UInt8(ascii: "n"): result.append(0x0A)
            case UInt8(ascii: "t"): result.append(0x09)
            case UInt8(ascii: "r"): result.append(0x0D)
            case UInt8(ascii: "0"): result.append(0x00)
            case UInt8(ascii: "\\"): result.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "x"):
                guard bytes.count >= 2, let value = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16)
                else { return nil }
                bytes = bytes.dropFirst(2)
                result.append(value)
            default: return nil
            }
        }
        return result
    }
}
