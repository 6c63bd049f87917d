import ArgumentParser
import Foundation
import NIOCore
import RunnelRecords

extension Runnel {
    /// `runnel verify`: offline, read-only consistency check of a data directory. Opens every file for reading
    /// only: it takes no lock and never recovers or rewrites anything (so it does not use `LogManager`).
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a data directory's segments, indexes and checkpoints (read-only).",
            discussion: """
                For every partition directory: checks each batch's CRC-32C and that batch offsets
                increase without overlap (within and across segments); that offset index entries
                lie within the .log and point at batch starts with matching offsets; that time
                index entries are monotonic and name offsets of the segment; and that checkpoint
                files parse (Kafka text format: version 0, a count, then that many lines).
                Prints each problem, then a summary. Exit status 0 if clean, 1 otherwise.

                EXAMPLES:
                  runnel verify --data-dir ./data/runnel
                  runnel verify --data-dir /srv/runnel --json
                """
        )

        @Option(name: .long, help: ArgumentHelp("The broker's data directory (log.dirs).", valueName: "dir"))
        var dataDir: String

        @Flag(name: .long, help: "Print problems and the summary as JSON objects, one per line.")
        var json = false

        func run() throws {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dataDir, isDirectory: &isDir), isDir.boolValue else {
                throw LogFileReader.ReadError("no such data directory: \(dataDir)")
            }
            var checker = DataDirChecker()
            try checker.check(dataDir)
            for problem in checker.problems {
                print(json ? LogFileReader.jsonLine(["type": "problem", "file": problem.file, "problem": problem.message])
                      : "PROBLEM \(problem.file): \(problem.message)")
            }
            let s = checker.stats
            if json {
                print(LogFileReader.jsonLine([
                    "type": "summary", "partitions": s.partitions, "segments": s.segments, "batches": s.batches,
                    "indexEntries": s.indexEntries, "checkpoints": s.checkpoints, "problems": checker.problems.count,
                ]))
            } else {
                print("Checked \(s.partitions) partition(s), \(s.segments) segment(s), \(s.batches) batch(es), "
                      + "\(s.indexEntries) index entries, \(s.checkpoints) checkpoint file(s): "
                      + (checker.problems.isEmpty ? "no problems" : "\(checker.problems.count) problem(s)"))
            }
            if !checker.problems.isEmpty { throw ExitCode(1) }
        }
    }
}

/// The checks behind `runnel verify`, collecting problems instead of stopping at the first.
struct DataDirChecker {
    struct Problem { var file: String; var message: String }
    struct Stats { var partitions = 0, segments = 0, batches = 0, indexEntries = 0, checkpoints = 0 }

    private(set) var problems: [Problem] = []
    private(set) var stats = Stats()

    private mutating func report(_ file: String, _ message: String) { problems.append(Problem(file: file, message: message)) }

    mutating func check(_ dataDir: String) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: dataDir).sorted()
        for name in names {
            let path = dataDir + "/" + name
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { continue }
            if isDir.boolValue {
                if Self.isPartitionDirName(name) { checkPartition(path) }
            } else if name.hasSuffix("checkpoint") {
                checkCheckpoint(path)
            }
        }
    }

    /// `topic-N` (a live partition; `-delete`/`-future` directories are skipped).
    static func isPartitionDirName(_ name: String) -> Bool {
        guard let dash = name.lastIndex(of: "-"), dash != name.startIndex else { return false }
        let number = name[name.index(after: dash)...]
        return !number.isEmpty && number.allSatisfy { $0.isASCII && $0.isNumber }
    }

    private mutating func checkPartition(_ dir: String) {
        stats.partitions += 1
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
        var nextOffset: Int64?
        for name in names where name.hasSuffix(".log") {
            let path = dir + "/" + name
            guard let base = LogFileReader.baseOffset(ofFile: path) else { continue }
            stats.segments += 1
            let batchStarts = checkLog(path, base: base, expectedFrom: &nextOffset)
            let stem = dir + "/" + String(name.dropLast(4))
            if FileManager.default.fileExists(atPath: stem + ".index") {
                checkOffsetIndex(stem + ".index", base: base, batchStarts: batchStarts)
            }
            if FileManager.default.fileExists(atPath: stem + ".timeindex") {
                checkTimeIndex(stem + ".timeindex", base: base, batchStarts: batchStarts)
            }
        }
        for name in names where name.hasSuffix("checkpoint") { checkCheckpoint(dir + "/" + name) }
    }

    /// Batch start position -> (baseOffset, lastOffset) of one segment, plus the log size.
    struct BatchStarts { var byPosition: [Int64: (base: Int64, last: Int64)] = [:]; var size: Int64 = 0; var lastOffset: Int64? }

    private mutating func checkLog(_ path: String, base: Int64, expectedFrom nextOffset: inout Int64?) -> BatchStarts {
        var starts = BatchStarts()
        let buffer: ByteBuffer
        do { buffer = try LogFileReader.readFile(path) } catch {
            report(path, "\(error)")
            return starts
        }
        starts.size = Int64(buffer.readableBytes)
        var batches = RecordBatchIterator(buffer, verifyCRC: false)
        var first = true
        while true {
            let position = batches.position
            let batch: RecordBatch?
            do { batch = try batches.next() } catch {
                report(path, "corrupt batch at position \(position): \(error)")
                return starts
            }
            guard let batch else { break }
            stats.batches += 1
            let h = batch.header
            if !batch.hasValidCRC { report(path, "batch at position \(position) (offset \(h.baseOffset)): CRC mismatch") }
            if h.lastOffsetDelta < 0 { report(path, "batch at position \(position): negative lastOffsetDelta") }
            if first && h.baseOffset < base {
                report(path, "first batch offset \(h.baseOffset) is below the segment base offset \(base)")
            }
            if let expected = nextOffset, h.baseOffset < expected {
                report(path, "batch at position \(position): offset \(h.baseOffset) overlaps the previous batch (next expected >= \(expected))")
            }
            first = false
            nextOffset = h.nextOffset
            starts.byPosition[Int64(position)] = (h.baseOffset, h.lastOffset)
            starts.lastOffset = h.lastOffset
        }
        if batches.trailingBytes > 0 {
            report(path, "partial batch at position \(batches.position) (\(batches.trailingBytes) trailing bytes)")
        }
        return starts
    }

    private mutating func checkOffsetIndex(_ path: String, base: Int64, batchStarts: BatchStarts) {
        let buffer: ByteBuffer
        do { buffer = try LogFileReader.readFile(path) } catch { return report(path, "\(error)") }
        let (entries, leftover) = LogFileReader.indexEntries(buffer, baseOffset: base, timeIndex: false)
        if leftover > 0 { report(path, "\(leftover) trailing bytes are not a whole 8-byte entry") }
        var previous: LogFileReader.IndexEntry?
        for (i, entry) in entries.enumerated() {
            stats.indexEntries += 1
            if let previous, entry.offset <= previous.offset || entry.position <= previous.position {
                report(path, "entry \(i) (offset \(entry.offset), position \(entry.position)) does not increase")
            }
            previous = entry
            if entry.position < 0 || entry.position >= batchStarts.size {
                report(path, "entry \(i): position \(entry.position) is outside the log (size \(batchStarts.size))")
                continue
            }
            guard let batch = batchStarts.byPosition[entry.position] else {
                report(path, "entry \(i): position \(entry.position) is not the start of a batch")
                continue
            }
            if entry.offset < batch.base || entry.offset > batch.last {
                report(path, "entry \(i): offset \(entry.offset) is not in the batch at position \(entry.position) "
                       + "(offsets \(batch.base)...\(batch.last))")
            }
        }
    }

    private mutating func checkTimeIndex(_ path: String, base: Int64, batchStarts: BatchStarts) {
        let buffer: ByteBuffer
        do { buffer = try LogFileReader.readFile(path) } catch { return report(path, "\(error)") }
        let (entries, leftover) = LogFileReader.indexEntries(buffer, baseOffset: base, timeIndex: true)
        if leftover > 0 { report(path, "\(leftover) trailing bytes are not a whole 12-byte entry") }
        var previous: LogFileReader.IndexEntry?
        for (i, entry) in entries.enumerated() {
            stats.indexEntries += 1
            if let previous, entry.timestamp < previous.timestamp || entry.offset < previous.offset {
                report(path, "entry \(i) (timestamp \(entry.timestamp), offset \(entry.offset)) is not monotonic")
            }
            previous = entry
            if entry.offset < base || (batchStarts.lastOffset.map { entry.offset > $0 } ?? true) {
                report(path, "entry \(i): offset \(entry.offset) is outside the segment's offsets")
            }
        }
    }

    /// Kafka checkpoint text: `0`, a count, then `count` lines of whitespace-separated fields ending in integers.
    private mutating func checkCheckpoint(_ path: String) {
        stats.checkpoints += 1
        guard let data = FileManager.default.contents(atPath: path) else { return report(path, "cannot read") }
        guard let text = String(validating: Array(data), as: UTF8.self) else { return report(path, "not UTF-8 text") }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        guard lines.count >= 2 else { return report(path, "checkpoint needs a version and a count line") }
        guard lines[0] == "0" else { return report(path, "unsupported checkpoint version '\(lines[0])'") }
        guard let count = Int(lines[1]), count >= 0 else { return report(path, "invalid entry count '\(lines[1])'") }
        let body = lines.dropFirst(2)
        if body.count != count { report(path, "declares \(count) entries but has \(body.count) lines") }
        for (i, line) in body.enumerated() {
            let fields = line.split(separator: " ")
            guard fields.count >= 2, let last = fields.last, Int64(last) != nil else {
                report(path, "entry line \(i + 1) is malformed: '\(line)'")
                continue
            }
            if fields.count == 2, Int64(fields[0]) == nil {
                report(path, "entry line \(i + 1) is malformed: '\(line)'")
            }
        }
    }
}
