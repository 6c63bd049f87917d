// runnel-records-interop: writes and reads record batches so an independent implementation (kafka-python, see
// tools/compat/records/test_record_interop.py) can check RunnelRecords against Kafka's format.
//
//   runnel-records-interop write DIR   one <codec>.bin per codec (two batches each) + manifest.json of the records
//   runnel-records-interop read FILE   one JSON line per record of every batch in FILE (CRC checked)
//   runnel-records-interop bench [N]   encode/decode throughput of 100-byte records in batches of 100
import Foundation
import NIOCore
import RunnelRecords

struct InteropRecord {
    var timestamp: Int64
    var key: [UInt8]?
    var value: [UInt8]?
    var headers: [RecordHeader]
}

/// The fixed record set: null/empty keys, tombstones, headers with null values and non-ASCII keys, and one large
/// value that spans several snappy (32 KiB) and lz4 (64 KiB) blocks.
func fixedRecords(batch: Int) -> [InteropRecord] {
    var records: [InteropRecord] = []
    let base: Int64 = 1_700_000_000_000 + Int64(batch) * 60_000
    for i in 0..<25 {
        let key: [UInt8]? = i % 7 == 3 ? nil : (i % 11 == 5 ? [] : Array("key-\(batch)-\(i)".utf8))
        var value: [UInt8]? = Array("value \(i) of batch \(batch): ".utf8) + Array(repeating: UInt8(65 + i % 26), count: i * 13)
        if i % 9 == 4 { value = nil }
        if i == 17 { value = (0..<150_000).map { UInt8(truncatingIfNeeded: ($0 * 31) ^ ($0 >> 7)) } }
        var headers: [RecordHeader] = []
        if i % 3 == 0 { headers.append(RecordHeader(key: "trace-id", utf8Value: "t-\(i)")) }
        if i % 4 == 1 { headers.append(RecordHeader(key: "névé-ключ", value: nil)) }
        if i % 5 == 2 { headers.append(RecordHeader(key: "bin", value: [0, 255, 1, 254])) }
        records.append(InteropRecord(timestamp: base + Int64((i * 37) % 1000), key: key, value: value, headers: headers))
    }
    return records
}

func base64(_ bytes: [UInt8]?) -> Any { bytes.map { Data($0).base64EncodedString() } ?? NSNull() }

func json(_ record: InteropRecord, offset: Int64) -> [String: Any] {
    [
        "offset": offset, "timestamp": record.timestamp, "key": base64(record.key), "value": base64(record.value),
        "headers": record.headers.map { [$0.key, base64($0.value)] as [Any] },
    ]
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(1)
}

func write(directory: String) throws {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    var manifest: [String: Any] = [:]
    for codec in CompressionCodec.allCases {
        var file = ByteBuffer()
        var expected: [[String: Any]] = []
        var nextOffset: Int64 = 1000
        for batchIndex in 0..<2 {
            let records = fixedRecords(batch: batchIndex)
            var builder = RecordBatchBuilder(
                baseOffset: nextOffset, compression: codec, producerId: 4242, producerEpoch: 7,
                baseSequence: Int32(batchIndex * records.count), partitionLeaderEpoch: 3)
            for record in records {
                builder.append(timestamp: record.timestamp, key: record.key, value: record.value, headers: record.headers)
            }
            file.writeImmutableBuffer(try builder.build())
            for (i, record) in records.enumerated() { expected.append(json(record, offset: nextOffset + Int64(i))) }
            nextOffset += Int64(records.count)
        }
        let path = "\(directory)/\(codec.name).bin"
        try Data(file.readableBytesView).write(to: URL(fileURLWithPath: path))
        manifest[codec.name] = ["file": path, "records": expected, "producer_id": 4242, "producer_epoch": 7]
    }
    let data = try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys])
    try data.write(to: URL(fileURLWithPath: "\(directory)/manifest.json"))
}

func read(path: String) throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    var iterator = RecordBatchIterator(ByteBuffer(bytes: data), verifyCRC: true)
    var out = ""
    while let batch = try iterator.next() {
        let codec = try batch.compression()
        for record in try batch.records() {
            var line = json(
                InteropRecord(
                    timestamp: record.timestamp(in: batch.header), key: record.keyBytes, value: record.valueBytes,
                    headers: record.headers),
                offset: record.offset(in: batch.header))
            line["codec"] = codec.name
            line["producer_id"] = batch.header.producerId
            line["base_sequence"] = batch.header.baseSequence
            let encoded = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
            out += String(decoding: encoded, as: UTF8.self) + "\n"
        }
    }
    guard iterator.trailingBytes == 0 else { fail("\(iterator.trailingBytes) trailing bytes after the last batch") }
    FileHandle.standardOutput.write(Data(out.utf8))
}

/// Throughput of the builder and decoder (release builds give meaningful figures).
func bench(batches: Int) throws {
    let value = [UInt8](repeating: 0x61, count: 100)
    let key = Array("key-000000".utf8)
    for codec in CompressionCodec.allCases {
        let clock = ContinuousClock()
        var bytes = 0
        var last = ByteBuffer()
        let encodeTime = try clock.measure {
            for b in 0..<batches {
                var builder = RecordBatchBuilder(compression: codec, initialCapacity: 100 * 130)
                for i in 0..<100 { builder.append(timestamp: Int64(b * 100 + i), key: key, value: value) }
                last = try builder.build()
                bytes += last.readableBytes
            }
        }
        var decoded = 0
        let decodeTime = try clock.measure {
            for _ in 0..<batches {
                var iterator = try RecordBatch(validating: last).makeRecordIterator()
                while let record = try iterator.next() { decoded += record.value?.readableBytes ?? 0 }
            }
        }
        func rate(_ duration: Duration) -> Double {
            let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
            return Double(batches * 100) / max(seconds, 1e-9)
        }
        print(
            "\(codec.name.padding(toLength: 6, withPad: " ", startingAt: 0)) encode \(Int(rate(encodeTime))) records/s"
                + "  decode+validate \(Int(rate(decodeTime))) records/s  (\(bytes / batches) bytes/batch)")
    }
}

let arguments = CommandLine.arguments
do {
    switch (arguments.count > 1 ? arguments[1] : "", arguments.count) {
    case ("write", 3): try write(directory: arguments[2])
    case ("read", 3): try read(path: arguments[2])
    case ("bench", 2): try bench(batches: 20_000)
    case ("bench", 3): try bench(batches: Int(arguments[2]) ?? 20_000)
    default: fail("usage: runnel-records-interop write DIR | read FILE | bench [BATCHES]")
    }
} catch {
    fail("error: \(error)")
}
