import Foundation
import NIOCore

/// Read-only access to the files of a Kafka-layout partition directory for the offline tools (`dump-log`,
/// `verify`). Every function opens files for reading only; nothing here writes, locks or recovers.
enum LogFileReader {
    /// A problem reading a file (the message names the file).
    struct ReadError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// One index entry: the absolute offset (base offset + relative) and, for an offset index, the byte
    /// position in the `.log`, or, for a time index, the timestamp (ms).
    struct IndexEntry: Equatable {
        /// Absolute offset = segment base offset + stored relative offset.
        var offset: Int64
        /// `.index`: byte position in the segment's `.log`; `.timeindex`: unused (0).
        var position: Int64
        /// `.timeindex`: timestamp in ms; `.index`: unused (0).
        var timestamp: Int64
    }

    /// The whole file at `path` (read-only).
    static func readFile(_ path: String) throws -> ByteBuffer {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ReadError("\(path): cannot open for reading") }
        defer { try? handle.close() }
        do {
            let data = try handle.readToEnd() ?? Data()
            return ByteBuffer(bytes: data)
        } catch {
            throw ReadError("\(path): \(error.localizedDescription)")
        }
    }

    /// The base offset encoded in a segment file name (`00000000000000000042.log` -> 42), or nil.
    static func baseOffset(ofFile path: String) -> Int64? {
        let name = URL(fileURLWithPath: path).lastPathComponent
        guard let dot = name.firstIndex(of: ".") else { return nil }
        let digits = name[..<dot]
        guard digits.count == 20, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        return Int64(digits)
    }

    /// The entries of an offset index (8-byte `relOffset int32, position int32`) or time index (12-byte
    /// `timestamp int64, relOffset int32`), big-endian. Trailing all-zero entries (preallocated, unused) are
    /// dropped, except that an all-zero first entry of an offset index is kept when a later entry is non-zero.
    /// - Returns: the entries and the number of bytes past the last whole entry (non-zero means a torn file).
    static func indexEntries(_ buffer: ByteBuffer, baseOffset: Int64, timeIndex: Bool) -> (entries: [IndexEntry], leftover: Int) {
        let entrySize = timeIndex ? 12 : 8
        let bytes = buffer.readableBytes
        var entries: [IndexEntry] = []
        var lastUsed = -1
        var index = 0
        var at = buffer.readerIndex
        while at + entrySize <= buffer.writerIndex {
            let entry: IndexEntry
            let zero: Bool
            if timeIndex {
                let ts = buffer.getInteger(at: at, endianness: .big, as: Int64.self) ?? 0
                let rel = buffer.getInteger(at: at + 8, endianness: .big, as: Int32.self) ?? 0
                entry = IndexEntry(offset: baseOffset + Int64(rel), position: 0, timestamp: ts)
                zero = ts == 0 && rel == 0
            } else {
                let rel = buffer.getInteger(at: at, endianness: .big, as: Int32.self) ?? 0
                let pos = buffer.getInteger(at: at + 4, endianness: .big, as: Int32.self) ?? 0
                entry = IndexEntry(offset: baseOffset + Int64(rel), position: Int64(pos), timestamp: 0)
                zero = rel == 0 && pos == 0
            }
            entries.append(entry)
            if !zero { lastUsed = index }
            index += 1
            at += entrySize
        }
        return (Array(entries.prefix(lastUsed + 1)), bytes % entrySize)
    }

    /// `bytes` as UTF-8 text if valid, else as `0x...` hex.
    static func render(_ buffer: ByteBuffer?) -> String? {
        guard let buffer else { return nil }
        let bytes = Array(buffer.readableBytesView)
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        return "0x" + bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// `bytes` as UTF-8 text if valid, else as `0x...` hex.
    static func render(_ bytes: [UInt8]?) -> String? {
        guard let bytes else { return nil }
        return render(ByteBuffer(bytes: bytes))
    }

    /// One compact JSON object line (sorted keys).
    static func jsonLine(_ object: [String: Any]) -> String {
        guard JSONSerialization.isValidJSONObject(object),
            let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
