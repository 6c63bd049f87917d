import Foundation
import Logging
import NIOCore
import RunnelRecords
@testable import RunnelStorage

/// One record as read back from a log.
struct StoredRecord: Hashable, CustomStringConvertible {
    var offset: Int64
    var key: [UInt8]?
    var value: [UInt8]?
    var timestamp: Int64
    var description: String {
        "\(offset):\(key.map { String(decoding: $0, as: UTF8.self) } ?? "nil")=\(value.map { String(decoding: $0, as: UTF8.self) } ?? "nil")"
    }
}

/// Every batch header and every record of `log` (CRC-checked, decoded with RunnelRecords), walking with
/// `LogReadResult.nextOffset`.
func readRecords(_ log: PartitionLog) throws -> (headers: [RecordBatchHeader], records: [StoredRecord]) {
    var headers: [RecordBatchHeader] = []
    var records: [StoredRecord] = []
    var next = log.logStartOffset
    while next < log.logEndOffset {
        let result = try log.read(from: next, maxBytes: 64 * 1024)
        var iterator = RecordBatchIterator(try result.readAllBytes(), verifyCRC: true)
        while let batch = try iterator.next() {
            headers.append(batch.header)
            for record in try batch.records() {
                records.append(
                    StoredRecord(
                        offset: record.offset(in: batch.header), key: record.keyBytes, value: record.valueBytes,
                        timestamp: record.timestamp(in: batch.header)))
            }
        }
        guard result.nextOffset > next else { break }
        next = result.nextOffset
    }
    return (headers, records)
}

/// A compacted-topic config with small segments.
func compactConfig(segmentBytes: Int = 2_048, deleteRetentionMs: Int64 = 1_000) -> LogConfig {
    var config = testConfig(segmentBytes: segmentBytes, indexIntervalBytes: 256, segmentIndexBytes: 4_096)
    config.cleanupPolicy = .compact
    config.minCleanableDirtyRatio = 0.0
    config.deleteRetentionMs = deleteRetentionMs
    return config
}

/// A cleaner config with a map of `slots` entries.
func smallCleanerConfig(slots: Int = 10_000, ioBufferBytes: Int = 8 * 1024) -> CleanerConfig {
    var config = CleanerConfig()
    config.dedupeBufferBytes = slots * KeyOffsetMap.bytesPerEntry
    config.ioBufferBytes = ioBufferBytes
    config.backoffMs = 50
    return config
}

/// A keyed record for `TestBatches.make`.
func keyed(_ key: String?, _ value: String?, at timestamp: Int64 = 1_000) -> TestRecord {
    TestRecord(key: key.map { Array($0.utf8) }, value: value.map { Array($0.utf8) }, timestamp: timestamp)
}
