import ArgumentParser
import NIOCore
import RunnelClient
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension Runnel {
    /// `runnel consume TOPIC...`: prints records of the given topics' partitions.
    struct Consume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print records from one or more topics.",
            discussion: """
                Reads every partition of each topic (or only --partition ones) directly,
                without a consumer group, and keeps waiting for new records until
                interrupted; --exit-at-end stops once every partition's end is reached.

                --offset: earliest | latest (default) | N | -N (N before the end) |
                @TIMESTAMP_MS (first record at or after that time).
                --format placeholders (kcat style): %t topic, %p partition, %o offset,
                %T timestamp (ms), %k key, %K key length, %s value, %S value length,
                %h headers (k=v,k=v), %% percent; escapes \\n \\t \\r \\0 \\xHH.
                The default format is '%s\\n'. --json prints one object per line:
                {"topic","partition","offset","timestamp","key","value","headers"}.

                With --group G the consumer joins consumer group G instead: partitions are
                shared with the group's other members (range or roundrobin assignor),
                reading resumes from the group's committed offsets (--offset earliest or
                latest applies where there is none, like Kafka's auto.offset.reset; to
                move a group, use `runnel groups reset-offsets`), offsets of printed records are
                committed every --auto-commit-interval-ms and with --commit-every N, and
                Ctrl-C commits what was printed and leaves the group.

                EXAMPLES:
                  runnel consume events --from-beginning --exit-at-end
                  runnel consume events --offset -10 --exit-at-end
                  runnel consume events --partition 0 --offset 1200 --max 5
                  runnel consume events --offset @1700000000000 --exit-at-end
                  runnel consume events --format '%p:%o %k=%s\\n' --from-beginning
                  runnel consume events other-topic --json --from-beginning --exit-at-end
                  runnel consume events --group billing --offset earliest
                  runnel consume events --group billing --commit-every 100
                """)

        @OptionGroup var connection: ConnectionOptions

        @Argument(help: "Topics to read.")
        var topics: [String]

        @Option(name: .long, help: ArgumentHelp("Only these partitions (repeatable).", valueName: "n"))
        var partition: [Int32] = []

        @Option(
            name: .long, parsing: .unconditional,  // so `--offset -10` is a value, not an option
            help: ArgumentHelp("Start: earliest, latest, N, -N or @timestamp-ms.", valueName: "offset"))
        var offset: String?

        @Flag(name: .long, help: "Start at the earliest offset (same as --offset earliest).")
        var fromBeginning = false

        @Flag(name: .long, help: "Stop once the end of every partition is reached.")
        var exitAtEnd = false

        @Option(name: .long, help: ArgumentHelp("Stop after this many records.", valueName: "n"))
        var max: Int?

        @Option(name: .long, help: ArgumentHelp("Output format with placeholders (see above).", valueName: "format"))
        var format: String?

        @Flag(name: .long, help: "Print each record as a JSON object on its own line.")
        var json = false

        @Option(name: .long, help: ArgumentHelp("Long-poll wait per fetch.", valueName: "ms"))
        var maxWaitMs: Int32 = 500

        @Option(name: .long, help: ArgumentHelp("Join this consumer group (see above).", valueName: "group"))
        var group: String?

        @Option(name: .long, help: ArgumentHelp("With --group: commit after every N printed records.", valueName: "n"))
        var commitEvery: Int?

        @Option(name: .long, help: ArgumentHelp("With --group: periodic commit interval.", valueName: "ms"))
        var autoCommitIntervalMs: Int64 = 5000

        @Option(name: .long, help: ArgumentHelp("With --group: range or roundrobin.", valueName: "name"))
        var assignor: String = "range"

        func validate() throws {
            guard !topics.isEmpty else { throw ValidationError("name at least one topic") }
            if fromBeginning, offset != nil { throw ValidationError("use either --from-beginning or --offset") }
            if let offset, StartOffset(parsing: offset) == nil {
                throw ValidationError("--offset must be earliest, latest, N, -N or @timestamp-ms; got '\(offset)'")
            }
            if json, format != nil { throw ValidationError("use either --json or --format") }
            if let format {
                do {
                    _ = try RecordFormatter(format: format)
                } catch {
                    throw ValidationError(error.description)
                }
            }
            if let max, max <= 0 { throw ValidationError("--max must be > 0") }
            if partition.contains(where: { $0 < 0 }) { throw ValidationError("--partition must be >= 0") }
            guard maxWaitMs >= 0 else { throw ValidationError("--max-wait-ms must be >= 0") }
            if group != nil {
                if !partition.isEmpty { throw ValidationError("--partition cannot be used with --group") }
                if let offset, !["earliest", "beginning", "latest", "end"].contains(offset.lowercased()) {
                    throw ValidationError(
                        "--offset with --group only sets where a group without committed offsets starts: earliest or "
                            + "latest (got '\(offset)'); use `runnel groups reset-offsets` to move a group")
                }
                guard PartitionAssignor(rawValue: assignor) != nil else {
                    throw ValidationError("--assignor must be range or roundrobin")
                }
            } else if commitEvery != nil {
                throw ValidationError("--commit-every needs --group")
            }
            if let commitEvery, commitEvery <= 0 { throw ValidationError("--commit-every must be > 0") }
            guard autoCommitIntervalMs > 0 else { throw ValidationError("--auto-commit-interval-ms must be > 0") }
            _ = try connection.address()
        }

        func run() async throws {
            let start: StartOffset = fromBeginning ? .earliest : offset.flatMap(StartOffset.init(parsing:)) ?? .latest
            let formatter = try RecordFormatter(format: format ?? RecordFormatter.defaultFormat)
            let address = try connection.address()
            if let group {
                try await runGroup(group, start: start, formatter: formatter, address: address)
                return
            }
            try await reportingClientErrors {
                let consumer = try await KafkaConsumer.connect(to: address)
                do {
                    try await assign(consumer, start: start)
                    try await loop(consumer, formatter: formatter)
                } catch {
                    await consumer.close()
                    throw error
                }
                await consumer.close()
            }
        }

        private func assign(_ consumer: KafkaConsumer, start: StartOffset) async throws {
            var starts: [TopicPartition: StartOffset] = [:]
            for topic in topics {
                let all = try await consumer.partitions(of: topic)
                let chosen = partition.isEmpty ? all : partition
                for index in chosen {
                    guard all.contains(index) else {
                        throw ClientError.unknownPartition(topic: topic, partition: index, partitionCount: all.count)
                    }
                    starts[TopicPartition(topic: topic, partition: index)] = start
                }
            }
            try await consumer.assign(starts)
        }

        private func loop(_ consumer: KafkaConsumer, formatter: RecordFormatter) async throws {
            var printer = Printer(formatter: formatter, json: json, max: max)
            while true {
                if exitAtEnd, await consumer.isAtEnd { return }
                let records = try await consumer.poll(maxWaitMs: maxWaitMs)
                guard printer.print(records) else { return }
            }
        }

        private func runGroup(_ group: String, start: StartOffset, formatter: RecordFormatter, address: BrokerAddress)
            async throws
        {
            var configuration = GroupConfiguration()
            configuration.startWithoutCommit = start
            if let chosen = PartitionAssignor(rawValue: assignor) {
                configuration.assignors = [chosen] + PartitionAssignor.allCases.filter { $0 != chosen }
            }
            let stop = StopFlag()
            let signals = SignalWatcher(signals: [SIGINT, SIGTERM]) { _ in stop.set() }
            defer { signals.cancel() }
            try await reportingClientErrors {
                let consumer = try await KafkaGroupConsumer.connect(
                    to: address, groupId: group, topics: topics, configuration: configuration)
                var printer = Printer(formatter: formatter, json: json, max: max)
                var sinceCommit = 0
                var lastCommit = ContinuousClock.now
                do {
                    while !stop.isSet {
                        let records = try await consumer.poll(maxWaitMs: maxWaitMs)
                        // Print first, then mark: a commit never covers a record that was not printed.
                        let count = printer.printCount(records)
                        for record in records.prefix(count) { await consumer.markConsumed(record) }
                        sinceCommit += count
                        if printer.stdoutClosed || printer.reachedMax { break }
                        let due = ContinuousClock.now - lastCommit >= .milliseconds(autoCommitIntervalMs)
                        if due || (commitEvery.map { sinceCommit >= $0 } ?? false) {
                            try await consumer.commitConsumed()
                            sinceCommit = 0
                            lastCommit = .now
                        }
                        if exitAtEnd, await consumer.isAtEnd { break }
                    }
                } catch {
                    try? await consumer.close()
                    throw error
                }
                try await consumer.close()
            }
        }
    }
}

/// Formats records to standard output, honouring `--max`.
struct Printer {
    let formatter: RecordFormatter
    let json: Bool
    let max: Int?
    private(set) var printed = 0
    private(set) var stdoutClosed = false
    private var output = ByteBufferAllocator().buffer(capacity: 1 << 16)

    init(formatter: RecordFormatter, json: Bool, max: Int?) {
        self.formatter = formatter
        self.json = json
        self.max = max
    }

    var reachedMax: Bool { max.map { printed >= $0 } ?? false }

    /// Prints records; false when the caller should stop (max reached or stdout closed).
    mutating func print(_ records: [ConsumerRecord]) -> Bool {
        _ = printCount(records)
        return !(stdoutClosed || reachedMax)
    }

    /// Prints records up to `--max`; returns how many were written.
    mutating func printCount(_ records: [ConsumerRecord]) -> Int {
        output.clear()
        var count = 0
        for record in records {
            if reachedMax { break }
            if json {
                JSONRecordWriter.write(record, to: &output)
                output.writeInteger(UInt8(ascii: "\n"))
            } else {
                formatter.write(record, to: &output)
            }
            printed += 1
            count += 1
        }
        if output.readableBytes > 0, !Terminal.write(output, to: 1) {
            stdoutClosed = true  // e.g. piped into head: nothing more to do
            return 0
        }
        return count
    }
}

/// Set from a signal handler, polled by the consume loop.
final class StopFlag: Sendable {
    private let value = Atomic(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}
