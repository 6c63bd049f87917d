import ArgumentParser
import Foundation
import NIOCore
import RunnelRecords

extension Runnel {
    /// `runnel dump-log`: prints the batches/records of `.log` files and the entries of `.index`/`.timeindex`
    /// files, like Kafka's `kafka-dump-log.sh`. Read-only.
    struct DumpLog: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dump-log",
            abstract: "Print the contents of segment (.log) and index (.index, .timeindex) files.",
            discussion: """
                Reads the files directly (read-only; safe while a broker runs). For a .log file,
                prints one line per record batch: offsets, position and size, magic, codec, CRC
                and whether it is valid, producer id/epoch/sequence, transactional/control
                flags and max timestamp; --print-records adds every record (offset, timestamp,
                key, value as UTF-8 or hex, headers). Stops with a message at a partial or
                corrupt tail. For an index file, prints its entries with absolute offsets
                (base offset from the file name + relative offset).

                EXAMPLES:
                  runnel dump-log data/runnel/orders-0/00000000000000000000.log
                  runnel dump-log --print-records --max-records 20 data/runnel/orders-0/00000000000000000000.log
                  runnel dump-log --json data/runnel/orders-0/00000000000000000000.index
                  runnel dump-log data/runnel/orders-0/*.timeindex
                """
        )

        @Argument(help: ArgumentHelp("Segment files: .log, .index or .timeindex.", valueName: "file"))
        var files: [String]

        @Flag(name: .long, help: "Print one JSON object per line.")
        var json = false

        @Flag(name: .long, help: "Print every record of every batch.")
        var printRecords = false

        @Option(name: .long, help: ArgumentHelp("Stop after this many records (implies --print-records).", valueName: "n"))
        var maxRecords: Int?

        func validate() throws {
            if files.isEmpty { throw ValidationError("name at least one file") }
            if let maxRecords, maxRecords < 0 { throw ValidationError("--max-records must be >= 0") }
        }

        func run() throws {
            var failed = false
            for file in files {
                do {
                    if file.hasSuffix(".log") {
                        try dumpLog(file)
                    } else if file.hasSuffix(".timeindex") {
                        try dumpIndex(file, timeIndex: true)
                    } else if file.hasSuffix(".index") {
                        try dumpIndex(file, timeIndex: false)
                    } else {
                        throw LogFileReader.ReadError("\(file): not a .log, .index or .timeindex file")
                    }
                } catch {
                    failed = true
                    Runnel.Compact.warn("\(error)")
                }
            }
            if failed { throw ExitCode(1) }
        }

        private func emit(_ text: String, _ object: [String: Any]) {
            print(json ? LogFileReader.jsonLine(object) : text)
        }

        private func dumpLog(_ path: String) throws {
            let buffer = try LogFileReader.readFile(path)
            if !json { print("Dumping \(path)") }
            let withRecords = printRecords || maxRecords != nil
            var printed = 0
            var batches = RecordBatchIterator(buffer, verifyCRC: false)
            while true {
                let position = batches.position
                let batch: RecordBatch?
                do {
                    batch = try batches.next()
                } catch {
                    emit(
                        "Stopped at position \(position): corrupt batch (\(error))",
                        ["file": path, "error": "corrupt batch: \(error)", "position": position])
                    return
                }
                guard let batch else { break }
                if withRecords, let maxRecords, printed >= maxRecords { return }
                let h = batch.header
                let valid = batch.hasValidCRC
                let codec = h.attributes.compression?.name ?? "unknown(\(h.attributes.compressionId))"
                emit(
                    "baseOffset: \(h.baseOffset) lastOffset: \(h.lastOffset) count: \(h.recordsCount) "
                        + "position: \(position) size: \(h.sizeInBytes) magic: \(h.magic) compresscodec: \(codec) "
                        + "crc: \(h.crc) isvalid: \(valid) producerId: \(h.producerId) producerEpoch: \(h.producerEpoch) "
                        + "baseSequence: \(h.baseSequence) isTransactional: \(h.attributes.isTransactional) "
                        + "isControl: \(h.attributes.isControl) partitionLeaderEpoch: \(h.partitionLeaderEpoch) "
                        + "maxTimestamp: \(h.maxTimestamp)",
                    [
                        "type": "batch", "baseOffset": h.baseOffset, "lastOffset": h.lastOffset, "count": h.recordsCount,
                        "position": position, "size": h.sizeInBytes, "magic": Int(h.magic), "codec": codec,
                        "crc": h.crc, "crcValid": valid, "producerId": h.producerId, "producerEpoch": Int(h.producerEpoch),
                        "baseSequence": h.baseSequence, "isTransactional": h.attributes.isTransactional,
                        "isControl": h.attributes.isControl, "partitionLeaderEpoch": h.partitionLeaderEpoch,
                        "maxTimestamp": h.maxTimestamp,
                    ])
                guard withRecords else { continue }
                let records: [Record]
                do {
                    records = try batch.records()
                } catch {
                    emit(
                        "Stopped at position \(position): cannot read records (\(error))",
                        ["file": path, "error": "cannot read records: \(error)", "position": position])
                    return
                }
                for record in records {
                    if let maxRecords, printed >= maxRecords { return }
                    printed += 1
                    let key = LogFileReader.render(record.key)
                    let value = LogFileReader.render(record.value)
                    let headers = record.headers.map { ($0.key, LogFileReader.render($0.value)) }
                    let headerText = headers.map { "\($0.0)=\($0.1 ?? "null")" }.joined(separator: ",")
                    emit(
                        "| offset: \(record.offset(in: h)) timestamp: \(record.timestamp(in: h)) "
                            + "key: \(key ?? "null") value: \(value ?? "null") headers: [\(headerText)]",
                        [
                            "type": "record", "offset": record.offset(in: h), "timestamp": record.timestamp(in: h),
                            "key": key ?? NSNull(), "value": value ?? NSNull(),
                            "headers": headers.map { ["key": $0.0, "value": $0.1 ?? NSNull()] as [String: Any] },
                        ])
                }
            }
            if batches.trailingBytes > 0 {
                emit(
                    "Stopped at position \(batches.position): partial batch of \(batches.trailingBytes) trailing bytes",
                    ["file": path, "error": "partial trailing batch", "position": batches.position,
                     "trailingBytes": batches.trailingBytes])
            }
        }

        private func dumpIndex(_ path: String, timeIndex: Bool) throws {
            guard let base = LogFileReader.baseOffset(ofFile: path) else {
                throw LogFileReader.ReadError("\(path): the file name does not start with a 20-digit base offset")
            }
            let buffer = try LogFileReader.readFile(path)
            if !json { print("Dumping \(path)") }
            let (entries, leftover) = LogFileReader.indexEntries(buffer, baseOffset: base, timeIndex: timeIndex)
            for entry in entries {
                if timeIndex {
                    emit(
                        "timestamp: \(entry.timestamp) offset: \(entry.offset)",
                        ["type": "timeindex", "timestamp": entry.timestamp, "offset": entry.offset])
                } else {
                    emit(
                        "offset: \(entry.offset) position: \(entry.position)",
                        ["type": "index", "offset": entry.offset, "position": entry.position])
                }
            }
            if leftover > 0 {
                emit("\(leftover) trailing bytes are not a whole entry", ["file": path, "error": "partial entry", "trailingBytes": leftover])
            }
        }
    }
}
