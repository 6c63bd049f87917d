import ArgumentParser
import NIOCore
import RunnelClient
import RunnelRecords

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension Runnel {
    /// `runnel produce TOPIC`: records from stdin or a file, one per line (or per delimiter).
    struct Produce: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Produce records from standard input or a file.",
            discussion: """
                Each line (or each --delimiter-separated chunk) becomes one record. With
                --key-separator, the text before the first separator is the key. With
                --json, each line is an object {"key":..,"value":..,"headers":{..},
                "timestamp":..} (all fields optional; the output of `consume --json`
                can be produced again). Records are batched per partition (--batch-size,
                --linger-ms); keyed records go to murmur2(key) % partitions like the Java
                client, others stick to one partition per batch. With the default
                --acks all the producer is idempotent (no duplicates on resend).

                A summary goes to standard error at the end; a progress line too when
                standard error is a terminal and input takes more than a second. The
                exit status is 1 if any record was not acknowledged.

                EXAMPLES:
                  echo hello | runnel produce events
                  runnel produce events --file data.txt --compression zstd
                  printf 'user1:login\\nuser2:logout\\n' | runnel produce events --key-separator :
                  runnel produce events --header source=cli --header env=dev < data.txt
                  echo '{"key":"k1","value":"v1","headers":{"h":"x"}}' | runnel produce events --json
                  runnel produce events --acks 1 --no-idempotent --linger-ms 20 < big.txt
                  RUNNEL_BOOTSTRAP_SERVER=10.0.0.5:9092 runnel produce events < data.txt
                """)

        @OptionGroup var connection: ConnectionOptions

        @Argument(help: "The topic to produce to.")
        var topic: String

        @Option(
            name: .long, help: ArgumentHelp("Read records from this file instead of standard input.", valueName: "path")
        )
        var file: String?

        @Option(
            name: .long,
            help: ArgumentHelp("Record delimiter; escapes \\n \\t \\r \\0 \\xHH allowed.", valueName: "text"))
        var delimiter: String = "\\n"

        @Option(
            name: .long,
            help: ArgumentHelp("Split each record into key and value at the first occurrence.", valueName: "text"))
        var keySeparator: String?

        @Option(name: .long, help: ArgumentHelp("Add a header to every record (repeatable).", valueName: "key=value"))
        var header: [String] = []

        @Option(name: .long, help: ArgumentHelp("Send every record to this partition.", valueName: "n"))
        var partition: Int32?

        @Option(name: .long, help: ArgumentHelp("none, gzip, snappy, lz4 or zstd.", valueName: "codec"))
        var compression: String = "none"

        @Option(name: .long, help: ArgumentHelp("Acknowledgements: 0, 1 or all.", valueName: "acks"))
        var acks: String = "all"

        @Option(name: .long, help: ArgumentHelp("How long a batch waits for more records.", valueName: "ms"))
        var lingerMs: Int64 = 5

        @Option(name: .long, help: ArgumentHelp("Close a batch at this many bytes.", valueName: "bytes"))
        var batchSize: Int = 1_000_000

        @Flag(inversion: .prefixedNo, help: "Idempotent producer (needs --acks all).")
        var idempotent = true

        @Flag(name: .long, help: "Each line is a JSON object with key, value, headers, timestamp.")
        var json = false

        @Flag(name: .long, help: "No summary line.")
        var quiet = false

        func validate() throws {
            guard LineSplitter.parseDelimiter(delimiter) != nil else {
                throw ValidationError("--delimiter must be non-empty text (escapes: \\n \\t \\r \\0 \\\\ \\xHH)")
            }
            if let keySeparator, LineSplitter.parseDelimiter(keySeparator) == nil {
                throw ValidationError("--key-separator must be non-empty text")
            }
            if json, keySeparator != nil { throw ValidationError("--json and --key-separator cannot be combined") }
            guard CompressionCodec(name: compression) != nil else {
                throw ValidationError("unknown --compression '\(compression)': use none, gzip, snappy, lz4 or zstd")
            }
            guard ProducerConfiguration.Acks(name: acks) != nil else {
                throw ValidationError("--acks must be 0, 1 or all")
            }
            if let partition, partition < 0 { throw ValidationError("--partition must be >= 0") }
            guard lingerMs >= 0 else { throw ValidationError("--linger-ms must be >= 0") }
            guard batchSize > 0 else { throw ValidationError("--batch-size must be > 0") }
            _ = try parseKeyValues(header, option: "--header")
            _ = try connection.address()
        }

        func run() async throws {
            var configuration = ProducerConfiguration()
            configuration.acks = ProducerConfiguration.Acks(name: acks) ?? .all
            configuration.compression = CompressionCodec(name: compression) ?? .none
            configuration.lingerMs = lingerMs
            configuration.batchSizeBytes = batchSize
            configuration.idempotent = idempotent
            // Idempotence caps in-flight requests at 5 (the broker keeps 5 batches of state per producer).
            configuration.maxInFlightRequests = configuration.usesIdempotence ? 5 : 20
            let headers = try parseKeyValues(header, option: "--header").map {
                RecordHeader(key: $0.0, utf8Value: $0.1)
            }
            let address = try connection.address()
            let input = try InputFile(path: file)
            defer { input.close() }

            let report = try await reportingClientErrors { () async throws -> ProduceReport in
                let producer = try await KafkaProducer.connect(to: address, configuration: configuration)
                do {
                    try await producer.prepare(topics: [topic])
                    if let partition, let count = await producer.partitionCount(of: topic), partition >= count {
                        throw ClientError.unknownPartition(
                            topic: topic, partition: partition, partitionCount: Int(count))
                    }
                    try await pump(input: input, into: producer, headers: headers)
                } catch {
                    await producer.close()
                    throw error
                }
                return await producer.close()
            }
            try finish(report)
        }

        /// Reads the input in large chunks, splits records without copying, and hands each chunk's records to
        /// the producer in one call. The next chunk is read and split while the producer appends the current
        /// one (`async let`), so input parsing and batch building overlap.
        private func pump(input: InputFile, into producer: KafkaProducer, headers: [RecordHeader]) async throws {
            let reader = RecordReader(
                input: input, delimiter: LineSplitter.parseDelimiter(delimiter) ?? [0x0A],
                keySeparator: keySeparator.flatMap { LineSplitter.parseDelimiter($0) }, topic: topic,
                partition: partition, headers: headers, json: json)
            var progress = ProgressLine(enabled: !quiet && Terminal.standardErrorIsTerminal)
            var current = try reader.next()
            while let records = current {
                async let upcoming = reader.next()
                do {
                    if !records.isEmpty { try await producer.send(records) }
                } catch {
                    _ = try? await upcoming  // let the read finish before the reader goes away
                    throw error
                }
                current = try await upcoming
                progress.update(records: reader.lineNumber, bytes: input.bytesRead)
            }
            progress.clear()
        }

        private func finish(_ report: ProduceReport) throws {
            let failed = report.recordsFailed
            if !quiet {
                let seconds = max(0.001, Double(ProgressLine.elapsedMs()) / 1000)
                let rate = Int(Double(report.recordsAccepted) / seconds)
                let done: String
                if report.recordsWrittenUnacknowledged > 0 {
                    done = "\(report.recordsWrittenUnacknowledged) records sent (acks=0: not acknowledged)"
                } else {
                    done = "\(report.recordsAcknowledged) records acknowledged"
                }
                Terminal.standardError(
                    "runnel: \(done) to \(topic), \(report.batchBytesSent) batch bytes, "
                        + "\(String(format3: seconds)) s, \(rate) records/s\n")
            }
            guard failed == 0 else {
                for failure in report.failures.prefix(10) { Terminal.error(failure.description) }
                if report.failures.count > 10 { Terminal.error("... and \(report.failures.count - 10) more failures") }
                Terminal.error("\(failed) of \(report.recordsAccepted) records were not acknowledged")
                throw ExitCode.failure
            }
        }
    }
}

extension String {
    /// `value` with three decimals, without Foundation.
    init(format3 value: Double) {
        let thousandths = Int((value * 1000).rounded())
        let fraction = String(thousandths % 1000)
        self = "\(thousandths / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}

/// Turns input chunks into producer records: one `next()` call reads a chunk, splits it into lines (slices, no
/// copies) and builds a record per line (key separator or JSON as configured).
///
/// `@unchecked Sendable`: `next()` runs on whichever task awaits it (the produce loop prepares the next chunk
/// with `async let` while the current one is sent), but calls never overlap: the loop awaits each `next()`
/// before starting another, so the mutable state is only ever used by one task at a time.
final class RecordReader: @unchecked Sendable {
    private let input: InputFile
    private var splitter: LineSplitter
    private let keySeparator: [UInt8]?
    private let topic: String
    private let partition: Int32?
    private let headers: [RecordHeader]
    private let json: Bool
    private var lines: [ByteBuffer] = []
    private var atEnd = false
    /// Records produced so far (1-based number of the last one), for messages and progress.
    private(set) var lineNumber = 0

    init(
        input: InputFile, delimiter: [UInt8], keySeparator: [UInt8]?, topic: String, partition: Int32?,
        headers: [RecordHeader], json: Bool
    ) {
        self.input = input
        self.splitter = LineSplitter(delimiter: delimiter)
        self.keySeparator = keySeparator
        self.topic = topic
        self.partition = partition
        self.headers = headers
        self.json = json
    }

    /// The records of the next chunk (possibly empty), or nil at the end of the input.
    func next() throws -> [ProducerRecord]? {
        guard !atEnd else { return nil }
        lines.removeAll(keepingCapacity: true)
        if let chunk = try input.read() {
            splitter.feed(chunk) { lines.append($0) }
        } else {
            atEnd = true
            if let last = splitter.finish() { lines.append(last) }
        }
        var records: [ProducerRecord] = []
        records.reserveCapacity(lines.count)
        for line in lines {
            lineNumber += 1
            if json {
                let parsed: JSONRecordParser.Parsed
                do {
                    parsed = try JSONRecordParser.parse(line)
                } catch {
                    throw ClientError.invalidArgument("input record \(lineNumber): \(error.description)")
                }
                records.append(
                    ProducerRecord(
                        topic: topic, partition: partition ?? parsed.partition, key: parsed.key, value: parsed.value,
                        headers: headers + parsed.headers, timestamp: parsed.timestamp))
            } else if let keySeparator, let (key, value) = LineSplitter.splitFirst(line, at: keySeparator) {
                records.append(ProducerRecord(topic: topic, partition: partition, key: key, value: value, headers: headers))
            } else {
                records.append(ProducerRecord(topic: topic, partition: partition, key: nil, value: line, headers: headers))
            }
        }
        return records
    }
}
