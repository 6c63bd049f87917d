import ArgumentParser
import NIOCore
import RunnelClient
import RunnelRecords
import Synchronization

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
                Batches that fail with a retriable error (lost connection, broker
                restart, timeout, NOT_LEADER_OR_FOLLOWER, ...) are resent after
                --retry-backoff-ms until --delivery-timeout-ms (or --retries) runs out.

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

        @Option(
            name: .long,
            help: ArgumentHelp(
                "Give up on a record this long after it was read, retrying meanwhile (Kafka's delivery.timeout.ms).",
                valueName: "ms"))
        var deliveryTimeoutMs: Int64 = 120_000

        @Option(
            name: .long,
            help: ArgumentHelp(
                "Resend a batch at most this many times after a retriable error (default: until the delivery timeout).",
                valueName: "n"))
        var retries: Int?

        @Option(name: .long, help: ArgumentHelp("Wait before a resend or a reconnect.", valueName: "ms"))
        var retryBackoffMs: Int64 = 100

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
            guard deliveryTimeoutMs > 0 else { throw ValidationError("--delivery-timeout-ms must be > 0") }
            if let retries, retries < 0 { throw ValidationError("--retries must be >= 0") }
            guard retryBackoffMs >= 0 else { throw ValidationError("--retry-backoff-ms must be >= 0") }
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
            configuration.deliveryTimeoutMs = deliveryTimeoutMs
            if let retries { configuration.retries = retries }
            configuration.retryBackoffMs = retryBackoffMs
            // Idempotence caps in-flight requests at 5 (the broker keeps 5 batches of state per producer).
            configuration.maxInFlightRequests = configuration.usesIdempotence ? ProducerConfiguration.maxIdempotentInFlight : 20
            let headers = try parseKeyValues(header, option: "--header").map {
                RecordHeader(key: $0.0, utf8Value: $0.1)
            }
            let address = try connection.address()
            let input = try InputFile(path: file)
            defer { input.close() }
            ProgressLine.begin()
            let reader = RecordReader(
                input: input, delimiter: LineSplitter.parseDelimiter(delimiter) ?? [0x0A],
                keySeparator: keySeparator.flatMap { LineSplitter.parseDelimiter($0) }, topic: topic,
                partition: partition, headers: headers, json: json)
            let showProgress = !quiet && Terminal.standardErrorIsTerminal

            let report = try await reportingClientErrors { () async throws -> ProduceReport in
                let producer = try await KafkaProducer.connect(to: address, configuration: configuration)
                let progress: Task<Bool, Never>? =
                    showProgress
                    ? Task { await ProgressLine.run(counters: reader.counters, producer: producer) } : nil
                do {
                    try await producer.prepare(topics: [topic])
                    if let partition, let count = await producer.partitionCount(of: topic), partition >= count {
                        throw ClientError.unknownPartition(
                            topic: topic, partition: partition, partitionCount: Int(count))
                    }
                    try await pump(reader, into: producer)
                } catch {
                    await producer.close()
                    await Self.stop(progress)
                    throw error
                }
                let report = await producer.close()  // waits for acknowledgements (and retries)
                await Self.stop(progress)
                return report
            }
            try finish(report)
        }

        /// Stops the progress line's task and erases the line if it drew one.
        private static func stop(_ progress: Task<Bool, Never>?) async {
            guard let progress else { return }
            progress.cancel()
            if await progress.value { ProgressLine.clear() }
        }

        /// Reads the input in large chunks and hands each chunk to the producer in one call (a block of byte
        /// ranges, or parsed records with --json). The next chunk is read and scanned while the producer
        /// appends the current one (`async let`), so input parsing and batch building overlap.
        private func pump(_ reader: RecordReader, into producer: KafkaProducer) async throws {
            var current = try reader.next()
            while let chunk = current {
                async let upcoming = reader.next()
                do {
                    switch chunk {
                    case .block(let block): if block.count > 0 { try await producer.send(block) }
                    case .records(let records): if !records.isEmpty { try await producer.send(records) }
                    }
                } catch {
                    _ = try? await upcoming  // let the read finish before the reader goes away
                    throw error
                }
                current = try await upcoming
            }
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
                var retried = ""
                if report.retriedBatches > 0 { retried += ", \(report.retriedBatches) batch(es) resent" }
                if report.reconnects > 0 { retried += ", \(report.reconnects) reconnect(s)" }
                Terminal.standardError(
                    "runnel: \(done) to \(topic), \(report.batchBytesSent) batch bytes, "
                        + "\(String(format3: seconds)) s, \(rate) records/s\(retried)\n")
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

/// Turns input chunks into producer records: one `next()` call reads a chunk, finds its records with
/// ``RecordScanner`` and returns them as one ``ProducerRecordBlock`` (byte ranges of the chunk, no copies), or
/// with `json` as parsed records.
///
/// Two chunk buffers alternate: while the producer copies the records of one chunk into its batches, the next
/// chunk is read into the other, and by the time a buffer comes round again the producer has let go of it, so
/// its memory is reused instead of reallocated (no page faults per chunk). An incomplete record at the end of a
/// chunk is copied to the start of the next one.
///
/// `@unchecked Sendable`: `next()` runs on whichever task awaits it (the produce loop prepares the next chunk
/// with `async let` while the current one is sent), but calls never overlap: the loop awaits each `next()`
/// before starting another, so the mutable state is only ever used by one task at a time.
final class RecordReader: @unchecked Sendable {
    enum Chunk {
        case block(ProducerRecordBlock)
        case records([ProducerRecord])
    }

    private let input: InputFile
    private let delimiter: [UInt8]
    private let keySeparator: [UInt8]?
    private let topic: String
    private let partition: Int32?
    private let headers: [RecordHeader]
    private let json: Bool
    private var buffers: [ByteBuffer]
    private var nextBuffer = 0
    /// The incomplete record at the end of the previous chunk.
    private var carry: ByteBuffer?
    private var finished = false
    /// Records produced so far (1-based number of the last one), for messages.
    private(set) var lineNumber = 0
    /// Records and bytes read, for the progress line.
    let counters = InputCounters()

    init(
        input: InputFile, delimiter: [UInt8], keySeparator: [UInt8]?, topic: String, partition: Int32?,
        headers: [RecordHeader], json: Bool
    ) {
        self.input = input
        self.delimiter = delimiter
        self.keySeparator = keySeparator
        self.topic = topic
        self.partition = partition
        self.headers = headers
        self.json = json
        let allocator = ByteBufferAllocator()
        self.buffers = [
            allocator.buffer(capacity: InputFile.chunkBytes + 4096),
            allocator.buffer(capacity: InputFile.chunkBytes + 4096),
        ]
    }

    /// The records of the next chunk (possibly none), or nil at the end of the input.
    func next() throws -> Chunk? {
        guard !finished else { return nil }
        // Taken out of the array so the storage is uniquely referenced (then `clear` keeps it).
        var buffer = buffers[nextBuffer]
        buffers[nextBuffer] = ByteBuffer()
        buffer.clear()
        if let tail = carry.take() { buffer.writeImmutableBuffer(tail) }
        let count = try input.read(appendingTo: &buffer)
        let final = count == 0
        guard buffer.readableBytes <= Int(Int32.max) else {
            throw ClientError.invalidArgument("input record \(lineNumber + 1) is longer than 2 GiB")
        }
        var spans: [ProducerRecordBlock.Span] = []
        spans.reserveCapacity(buffer.readableBytes / 32 + 1)
        let covered = RecordScanner.scan(
            buffer, delimiter: delimiter, keySeparator: json ? nil : keySeparator, final: final, into: &spans)
        if final {
            finished = true
        } else if covered < buffer.readableBytes {
            carry = buffer.getSlice(at: buffer.readerIndex + covered, length: buffer.readableBytes - covered)
        }
        buffers[nextBuffer] = buffer
        nextBuffer = (nextBuffer + 1) % buffers.count
        let first = lineNumber + 1
        lineNumber += spans.count
        counters.records.store(lineNumber, ordering: .relaxed)
        counters.bytes.store(input.bytesRead, ordering: .relaxed)
        guard json else {
            return .block(
                ProducerRecordBlock(
                    topic: topic, partition: partition, headers: headers, buffer: buffer, spans: spans))
        }
        var records: [ProducerRecord] = []
        records.reserveCapacity(spans.count)
        for (offset, span) in spans.enumerated() {
            guard
                let line = buffer.getSlice(
                    at: buffer.readerIndex + Int(span.valueOffset), length: Int(span.valueLength))
            else { continue }
            let parsed: JSONRecordParser.Parsed
            do {
                parsed = try JSONRecordParser.parse(line)
            } catch {
                throw ClientError.invalidArgument("input record \(first + offset): \(error.description)")
            }
            records.append(
                ProducerRecord(
                    topic: topic, partition: partition ?? parsed.partition, key: parsed.key, value: parsed.value,
                    headers: headers + parsed.headers, timestamp: parsed.timestamp))
        }
        return .records(records)
    }
}
