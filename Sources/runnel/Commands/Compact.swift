import ArgumentParser
import Foundation
import Logging
import RunnelBroker
import RunnelStorage

extension Runnel {
    /// `runnel compact`: offline log compaction of a data directory no broker is using.
    struct Compact: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compact the compacted topics of a data directory offline.",
            discussion: """
                Rewrites the partitions of topics whose cleanup.policy contains 'compact'
                (read from the broker's topic table in the data directory), keeping the
                latest record of every key at its original offset, exactly as the broker's
                own log cleaner does. A partition named with --topic is compacted whatever
                its policy. The active (last) segment is never rewritten unless
                --roll-active rolls it first. Tombstones are kept until delete.retention.ms
                after the cleaning that first saw them.

                The directory must not be in use: if a broker holds its lock, the command
                refuses and names the broker's pid. A running broker compacts its
                compacted topics online (log.cleaner.enable), so there is no need to stop it.

                Progress goes to standard error; a report table (or JSON with --json) to
                standard output. The exit status is non-zero if any partition failed; a
                failed partition is left exactly as it was.

                Examples:
                  runnel compact --data-dir ./data/runnel
                  runnel compact --data-dir ./data/runnel --dry-run
                  runnel compact --data-dir /srv/runnel --topic users --partition 0
                  runnel compact --data-dir /srv/runnel --topic users --roll-active --json
                """
        )

        @Option(name: .long, help: ArgumentHelp("The broker's data directory (log.dirs).", valueName: "dir"))
        var dataDir: String

        @Option(name: .long, help: ArgumentHelp("Only this topic (compacted whatever its cleanup.policy).", valueName: "topic"))
        var topic: String?

        @Option(name: .long, help: ArgumentHelp("Only this partition of --topic.", valueName: "n"))
        var partition: Int32?

        @Flag(name: .long, help: "Report what would be removed without writing anything.")
        var dryRun = false

        @Flag(name: .long, help: "Print the report as JSON.")
        var json = false

        @Flag(name: .long, help: "Roll the active segment first so that its records are compacted too.")
        var rollActive = false

        @Option(
            name: .long,
            help: ArgumentHelp("Key map memory in bytes (log.cleaner.dedupe.buffer.size; 24 bytes per key).", valueName: "bytes"))
        var bufferBytes: Int = 134_217_728

        @Option(name: .long, help: ArgumentHelp("Limit cleaner I/O to this many bytes per second.", valueName: "bytes"))
        var maxBytesPerSecond: Double?

        func validate() throws {
            if partition != nil && topic == nil { throw ValidationError("--partition needs --topic") }
            if let partition, partition < 0 { throw ValidationError("--partition must be >= 0") }
            if bufferBytes < KeyOffsetMap.bytesPerEntry * 2 { throw ValidationError("--buffer-bytes is too small") }
            if let rate = maxBytesPerSecond, !(rate > 0) { throw ValidationError("--max-bytes-per-second must be > 0") }
        }

        func run() throws {
            var logger = Logger(label: "runnel.compact")
            logger.logLevel = .warning
            guard FileManager.default.fileExists(atPath: dataDir) else {
                throw CompactCommandError("no such data directory: \(dataDir)")
            }
            let manager: LogManager
            do {
                manager = try LogManager(directory: dataDir, defaultConfig: LogConfig(), logger: logger)
            } catch let StorageError.directoryLocked(path, pid) {
                throw CompactCommandError(
                    "\(path) is in use by a running broker (pid \(pid.map(String.init) ?? "unknown")). Its own log "
                        + "cleaner compacts compacted topics online; stop the broker to compact offline.")
            }
            var summaries: [PartitionSummary] = []
            do {
                let selected = try selectPartitions(manager, logger: logger)
                var cleanerConfig = CleanerConfig()
                cleanerConfig.dedupeBufferBytes = bufferBytes
                if let maxBytesPerSecond { cleanerConfig.maxIoBytesPerSecond = maxBytesPerSecond }
                let cleaner = LogCleaner(manager: manager, config: cleanerConfig, logger: logger)
                for log in selected {
                    summaries.append(compact(log, cleaner: cleaner))
                }
                try manager.close()
            } catch {
                try? manager.close()
                throw error
            }
            if json { try printJSON(summaries) } else { printTable(summaries) }
            let failed = summaries.filter { $0.error != nil }
            if !failed.isEmpty {
                throw CompactCommandError("\(failed.count) partition(s) failed; they were left unchanged")
            }
        }

        // MARK: - Selection

        /// The logs to compact, each with its topic's configuration applied.
        private func selectPartitions(_ manager: LogManager, logger: Logger) throws -> [PartitionLog] {
            var topicConfigs: [String: [String: String]] = [:]
            do {
                let store = try TopicStore(directory: dataDir)
                for topic in store.allTopics() { topicConfigs[topic.name] = topic.configs }
            } catch {
                Self.warn("cannot read the topic table (\(error)); using Kafka's default topic configs")
            }
            var selected: [PartitionLog] = []
            for log in manager.allLogs() {
                let tp = log.topicPartition
                if let topic, tp.topic != topic { continue }
                if let partition, tp.partition != partition { continue }
                var config = LogConfig()
                if let overrides = topicConfigs[tp.topic] {
                    do { try config.apply(overrides) } catch {
                        Self.warn("topic \(tp.topic): ignoring its configs (\(error))")
                    }
                }
                // A topic named explicitly is compacted whatever its policy.
                guard config.cleanupPolicy.compacts || topic != nil else { continue }
                log.updateConfig(config)
                if rollActive && !dryRun { try log.roll() }
                selected.append(log)
            }
            if let topic, selected.isEmpty {
                let what = partition.map { "partition \(topic)-\($0)" } ?? "topic \(topic)"
                throw CompactCommandError("no \(what) in \(dataDir)")
            }
            return selected
        }

        // MARK: - Compaction

        private func compact(_ log: PartitionLog, cleaner: LogCleaner) -> PartitionSummary {
            let tp = log.topicPartition
            var summary = PartitionSummary(topic: tp.topic, partition: tp.partition, dryRun: dryRun)
            summary.sizeBefore = log.sizeInBytes
            var meter = ProgressMeter(label: tp.description)
            do {
                let reports = try cleaner.clean(tp, now: wallClockMs(), force: true, dryRun: dryRun) { progress in
                    meter.update(progress)
                }
                meter.finish()
                summary.add(reports)
            } catch {
                meter.finish()
                summary.error = "\(error)"
                Self.warn("\(tp): \(error)")
            }
            summary.sizeAfter = dryRun ? summary.sizeBefore - (summary.bytesBefore - summary.bytesAfter) : log.sizeInBytes
            return summary
        }

        // MARK: - Output

        private func printTable(_ summaries: [PartitionSummary]) {
            if summaries.isEmpty {
                print("No compacted partitions in \(dataDir) (use --topic to compact another topic).")
                return
            }
            if dryRun { print("Dry run: nothing was written. Figures cover the first cleaning round of each partition.") }
            let header = ["PARTITION", "ROUNDS", "SEGMENTS", "BYTES", "RECORDS", "REMOVED", "TOMBSTONES", "KEYS", "TIME", "STATUS"]
            var rows: [[String]] = [header]
            let idle = summaries.filter { $0.rounds == 0 && $0.error == nil }
            for s in summaries where s.rounds > 0 || s.error != nil {
                rows.append([
                    "\(s.topic)-\(s.partition)", "\(s.rounds)", "\(s.segmentsBefore) -> \(s.segmentsAfter)",
                    "\(Self.formatBytes(s.bytesBefore)) -> \(Self.formatBytes(s.bytesAfter))",
                    "\(s.recordsBefore) -> \(s.recordsAfter)", "\(s.recordsRemoved)", "\(s.tombstonesRemoved)", "\(s.keys)",
                    String(format: "%.2fs", Double(s.durationMs) / 1000),
                    s.error == nil ? (s.rounds == 0 ? "nothing to clean" : "ok") : "FAILED",
                ])
            }
            if rows.count == 1 { rows.removeAll() }
            let columnWidths = widths(rows)
            for row in rows {
                print(row.enumerated().map { $1.padding(toLength: columnWidths[$0], withPad: " ", startingAt: 0) }
                    .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
            }
            if !idle.isEmpty {
                print("\(idle.count) compacted partition(s) had nothing to clean (empty, or only an active segment: see --roll-active).")
            }
            for s in summaries { if let error = s.error { print("\(s.topic)-\(s.partition): \(error)") } }
        }

        /// Column widths of a table.
        private func widths(_ rows: [[String]]) -> [Int] {
            guard let first = rows.first else { return [] }
            return first.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        }

        private func printJSON(_ summaries: [PartitionSummary]) throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(summaries)
            print(String(decoding: data, as: UTF8.self))
        }
    }
}

extension Runnel.Compact {
/// Per-partition totals over its cleaning rounds (the report row / JSON object).
struct PartitionSummary: Codable {
    var topic: String
    var partition: Int32
    var dryRun: Bool
    var rounds = 0
    var segmentsBefore = 0
    var segmentsAfter = 0
    var bytesBefore: Int64 = 0
    var bytesAfter: Int64 = 0
    var recordsBefore: Int64 = 0
    var recordsAfter: Int64 = 0
    var recordsRemoved: Int64 = 0
    var tombstonesRemoved: Int64 = 0
    var recordsWithoutKeyRemoved: Int64 = 0
    var keys = 0
    var bytesRead: Int64 = 0
    var bytesWritten: Int64 = 0
    /// Size of the partition's `.log` files before and after (estimated for a dry run).
    var sizeBefore: Int64 = 0
    var sizeAfter: Int64 = 0
    var durationMs: Int64 = 0
    var firstDirtyOffset: Int64?
    var nextDirtyOffset: Int64?
    var error: String?

    init(topic: String, partition: Int32, dryRun: Bool) {
        self.topic = topic
        self.partition = partition
        self.dryRun = dryRun
    }

    /// Totals: "before" from the first round (what the partition held), "after" from the last one.
    mutating func add(_ reports: [CleaningReport]) {
        let working = reports.filter(\.didWork)
        rounds = working.count
        guard let first = working.first, let last = working.last else { return }
        segmentsBefore = first.segmentsBefore
        bytesBefore = first.bytesBefore
        recordsBefore = first.recordsBefore
        segmentsAfter = last.segmentsAfter
        bytesAfter = last.bytesAfter
        recordsAfter = last.recordsAfter
        recordsRemoved = recordsBefore - recordsAfter
        tombstonesRemoved = working.reduce(0) { $0 + $1.tombstonesRemoved }
        recordsWithoutKeyRemoved = working.reduce(0) { $0 + $1.recordsWithoutKeyRemoved }
        keys = working.map(\.keys).max() ?? 0
        bytesRead = working.reduce(0) { $0 + $1.bytesRead }
        bytesWritten = working.reduce(0) { $0 + $1.bytesWritten }
        durationMs = reports.reduce(0) { $0 + $1.durationMs }
        firstDirtyOffset = first.firstDirtyOffset
        nextDirtyOffset = last.nextDirtyOffset
    }
}

/// Progress lines on standard error: at most one per second, only once a partition has run for a second (so
/// short runs stay quiet). Overwrites the line in place on a terminal.
struct ProgressMeter {
    let label: String
    private let started = Date()
    private var lastPrint = Date.distantPast
    private var printed = false
    private let isTerminal = isatty(2) != 0

    init(label: String) { self.label = label }

    mutating func update(_ progress: CleaningProgress) {
        let now = Date()
        let elapsed = now.timeIntervalSince(started)
        guard elapsed >= 1, now.timeIntervalSince(lastPrint) >= 1 else { return }
        lastPrint = now
        let rate = Double(progress.bytesDone) / max(elapsed, 0.001)
        let left = rate > 0 ? Double(max(0, progress.bytesTotal - progress.bytesDone)) / rate : 0
        let format = Runnel.Compact.formatBytes
        let line = "\(label)  \(progress.phase.rawValue)  \(format(progress.bytesDone)) / "
            + "\(format(progress.bytesTotal))  \(format(Int64(rate)))/s  ~\(Int(left.rounded()))s left"
        Runnel.Compact.warn(isTerminal ? "\r\(line)\u{1B}[K" : line, newline: !isTerminal)
        printed = true
    }

    mutating func finish() {
        if printed && isTerminal { Runnel.Compact.warn("") }
    }
}

/// A command failure with a message for the user (exit status 1).
struct CompactCommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Writes `text` to standard error.
static func warn(_ text: String, newline: Bool = true) {
    FileHandle.standardError.write(Data((text + (newline ? "\n" : "")).utf8))
}

/// "1.5 MiB"-style sizes.
static func formatBytes(_ bytes: Int64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes)
    var unit = 0
    while abs(value) >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f", value) + " " + units[unit]
}
}
