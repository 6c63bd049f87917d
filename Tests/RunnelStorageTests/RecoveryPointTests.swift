import Foundation
import NIOCore
import RunnelRecords
import Testing
@testable import RunnelStorage

/// Unclean reopen after flush + checkpoint: only the bytes after the recovery point are CRC-checked.
@Suite struct RecoveryPointTests {
    /// Appends `flushed` batches (flushed and checkpointed: the recovery point), then `extra` more, and drops the
    /// manager without closing. Returns the expected batches, the `.log` path and the byte size of the flushed part.
    func populate(_ dir: TempDirectory, config: LogConfig, flushed: Int, extra: Int) throws
        -> (expected: [ExpectedBatch], logPath: String, flushedBytes: Int)
    {
        let manager = try openManager(dir, config: config)
        let log = try manager.getOrCreateLog(orders0, config: config)
        var expected: [ExpectedBatch] = []
        var flushedBytes = 0
        for step in 0..<(flushed + extra) {
            if step == flushed {
                try manager.flushAll()
                try manager.writeCheckpoints()
            }
            let batch = TestBatches.make(count: 1 + step % 3, valueSize: 50, timestamp: Int64(1_000 + step), fill: UInt8(step % 200))
            if step < flushed { flushedBytes += batch.readableBytes }
            let info = try log.append(batch, now: 1)
            expected.append(ExpectedBatch(baseOffset: info.firstOffset, lastOffset: info.lastOffset, payload: payloadAfterHeaderPrefix(batch)))
        }
        #expect(log.segmentBaseOffsets == [0])
        manager.waitForBackgroundFlushes()
        return (expected, dir.path + "/orders-0/" + FileNames.prefix(0) + ".log", flushedBytes)
    }

    @Test func uncleanReopenChecksOnlyTheBytesAfterTheRecoveryPoint() throws {
        try TempDirectory.with("rp") { dir in
            let config = testConfig(indexIntervalBytes: 300)
            let (expected, logPath, flushedBytes) = try populate(dir, config: config, flushed: 40, extra: 3)
            let total = try fileSize(logPath)
            let manager = try openManager(dir, config: config)
            defer { try? manager.close() }
            #expect(!manager.hadCleanShutdown)
            let log = try #require(manager.log(for: orders0))
            #expect(log.loadSummary.segmentsRecovered == 1)
            #expect(log.loadSummary.recoveryBytesScanned == Int64(total - flushedBytes))
            #expect(log.loadSummary.bytesTruncated == 0)
            #expect(log.recoveryPoint == expected[39].lastOffset + 1)
            #expect(try stored(log) == expected)
            // The rebuilt index serves reads from every offset.
            for offset in 0..<log.logEndOffset {
                let first = try TestBatches.split(try log.read(from: offset, maxBytes: 1).readAllBytes()).first
                #expect(first.map { $0.header.baseOffset <= offset && $0.header.lastOffset >= offset } == true)
            }
            #expect(try log.append(TestBatches.make(count: 1), now: 1).firstOffset == expected[42].lastOffset + 1)
        }
    }

    @Test func tornTailAfterTheRecoveryPointIsTruncatedAndThePrefixKept() throws {
        try TempDirectory.with("rp-torn") { dir in
            let config = testConfig(indexIntervalBytes: 300)
            let (expected, logPath, flushedBytes) = try populate(dir, config: config, flushed: 30, extra: 4)
            let total = try fileSize(logPath)
            let cut = total - 20  // inside the last batch
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
            try handle.truncate(atOffset: UInt64(cut))
            try handle.close()
            let manager = try openManager(dir, config: config)
            defer { try? manager.close() }
            let log = try #require(manager.log(for: orders0))
            let kept = Array(expected.dropLast())
            let keptBytes = try fileSize(logPath)
            #expect(log.loadSummary.bytesTruncated == Int64(cut - keptBytes))
            #expect(keptBytes > flushedBytes && keptBytes < cut)
            #expect(log.loadSummary.recoveryBytesScanned < Int64(total - flushedBytes))
            #expect(try stored(log) == kept)
            #expect(log.logEndOffset == kept[kept.count - 1].lastOffset + 1)
            #expect(try log.append(TestBatches.make(count: 1), now: 1).firstOffset == log.logEndOffset - 1)
        }
    }

    @Test func brokenHeaderChainBelowTheRecoveryPointFallsBackToAFullScan() throws {
        try TempDirectory.with("rp-broken") { dir in
            let config = testConfig(indexIntervalBytes: 300)
            let (expected, logPath, flushedBytes) = try populate(dir, config: config, flushed: 30, extra: 2)
            var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: logPath)))
            // Locate batch 29, the last one below the recovery point (after the last index entry the scan may resume
            // from), and break its magic byte (offset 16 in the batch).
            var position = 0
            for _ in 0..<29 {
                position += try RecordBatchHeader(parsing: ByteBuffer(bytes: bytes[position...]), at: 0).sizeInBytes
            }
            bytes[position + 16] ^= 0x7F
            try Data(bytes).write(to: URL(fileURLWithPath: logPath))
            let manager = try openManager(dir, config: config)
            defer { try? manager.close() }
            let log = try #require(manager.log(for: orders0))
            // The full rescan CRC-checks the 29 good batches before the damage.
            #expect(log.loadSummary.recoveryBytesScanned == Int64(position))
            #expect(position < flushedBytes)
            #expect(try stored(log) == Array(expected.prefix(29)))
            #expect(log.recoveryPoint == log.logEndOffset)
            #expect(try fileSize(logPath) == position)
        }
    }
}
