/// Kafka's offset checkpoint text format (KAFKA-FORMATS §5.9), used by `recovery-point-offset-checkpoint` and
/// `log-start-offset-checkpoint`:
///
/// ```
/// 0                 <- format version
/// 2                 <- number of entry lines
/// orders 0 1200     <- "<topic> <partition> <offset>"
/// orders 1 987
/// ```
///
/// Lines end with `\n`. Reading splits on whitespace and rejects a version other than 0, a count that disagrees
/// with the lines, or a malformed line. Writing is atomic (tmp, fsync, rename, fsync of the directory).
enum OffsetCheckpointFile {
    /// The file text for `entries` (sorted by partition, so output is deterministic).
    static func render(_ entries: [TopicPartition: Int64]) -> String {
        var text = "0\n\(entries.count)\n"
        for (tp, offset) in entries.sorted(by: { $0.key < $1.key }) {
            text += "\(tp.topic) \(tp.partition) \(offset)\n"
        }
        return text
    }

    /// Parses the file text.
    /// - Throws: `StorageError.corruptCheckpoint` naming `path` and what is wrong.
    static func parse(_ text: String, path: String) throws(StorageError) -> [TopicPartition: Int64] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingSpaces }
        while let last = lines.last, last.isEmpty { lines.removeLast() }
        guard lines.count >= 2 else { throw .corruptCheckpoint(path: path, reason: "missing version or count line") }
        guard let version = Int(lines[0]) else {
            throw .corruptCheckpoint(path: path, reason: "version line '\(lines[0])' is not a number")
        }
        guard version == 0 else { throw .corruptCheckpoint(path: path, reason: "unsupported version \(version)") }
        guard let count = Int(lines[1]), count >= 0 else {
            throw .corruptCheckpoint(path: path, reason: "count line '\(lines[1])' is not a non-negative number")
        }
        guard lines.count - 2 == count else {
            throw .corruptCheckpoint(path: path, reason: "expected \(count) entries, found \(lines.count - 2)")
        }
        var entries: [TopicPartition: Int64] = [:]
        for (number, line) in lines.dropFirst(2).enumerated() {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count == 3, let partition = Int32(fields[1]), partition >= 0, let offset = Int64(fields[2])
            else { throw .corruptCheckpoint(path: path, reason: "malformed entry line \(number + 3): '\(line)'") }
            entries[TopicPartition(topic: String(fields[0]), partition: partition)] = offset
        }
        return entries
    }

    /// Reads `path`; a missing file is an empty checkpoint.
    /// - Throws: `.corruptCheckpoint` (bad content or not UTF-8), `.io`.
    static func read(_ path: String) throws(StorageError) -> [TopicPartition: Int64] {
        guard FileSystem.exists(path) else { return [:] }
        let bytes = try FileSystem.readFile(path)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .corruptCheckpoint(path: path, reason: "not UTF-8 text")
        }
        return try parse(text, path: path)
    }

    /// Writes `entries` to `path` atomically and durably.
    static func write(_ entries: [TopicPartition: Int64], to path: String) throws(StorageError) {
        try FileSystem.writeAtomically(Array(render(entries).utf8), to: path)
    }
}
