import Foundation
import NIOCore
import RunnelRecords
import Testing
@testable import RunnelStorage

@Suite struct CompactionTests {
    /// Appends `versions` values of each key in `keys`, one batch per version round, rolling as segments fill.
    func appendVersions(_ log: PartitionLog, keys: Int, versions: Int, now: Int64 = 1_000) throws {
        for version in 0..<versions {
            let records = (0..<keys).map { keyed("k\($0)", "v\(version)-\($0)", at: now + Int64(version)) }
            _ = try log.append(TestBatches.make(records), now: now)
        }
    }

    @Test func keepsOnlyTheLatestValuePerKeyAtItsOriginalOffset() throws {
        let config = compactConfig()
        try withLog(config) { log, manager, dir in
            try appendVersions(log, keys: 5, versions: 12)
            try log.roll()
            let endBefore = log.logEndOffset
            let segmentsBefore = log.segmentCount
            let cleaner = LogCleaner(manager: manager, config: smallCleanerConfig(), logger: CapturedLogs().logger)
            let reports = cleaner.cleanOnce(now: 5_000)
            #expect(reports.count == 1)
            let report = try #require(reports.first)
            #expect(report.recordsBefore == 60)
            #expect(report.recordsAfter == 5)
            #expect(report.keys == 5)
            #expect(report.nextDirtyOffset == endBefore)
            #expect(report.bytesAfter < report.bytesBefore)
            #expect(log.logEndOffset == endBefore)
            #expect(log.segmentCount <= segmentsBefore)
            let (_, records) = try readRecords(log)
            #expect(records.map(\.offset) == (55..<60).map(Int64.init))
            #expect(records.map { String(decoding: $0.value ?? [], as: UTF8.self) } == (0..<5).map { "v11-\($0)" })
            // The checkpoint says where the next round starts, in Kafka's text format.
            let text = try String(contentsOfFile: dir.path + "/cleaner-offset-checkpoint", encoding: .utf8)
            #expect(text == "0\n1\norders 0 \(endBefore)\n")
            #expect(cleaner.firstDirtyOffset(of: orders0) == endBefore)
            // Nothing new is dirty: the next pass does nothing.
            #expect(cleaner.cleanOnce(now: 6_000).isEmpty)
        }
    }

    @Test func activeSegmentIsNeverCleanedAndLogEndOffsetIsUnchanged() throws {
        try withLog(compactConfig()) { log, manager, _ in
            try appendVersions(log, keys: 3, versions: 30)
            let active = try #require(log.segmentBaseOffsets.last)
            let endBefore = log.logEndOffset
            let cleaner = LogCleaner(manager: manager, config: smallCleanerConfig(), logger: CapturedLogs().logger)
            let report = try #require(cleaner.cleanOnce(now: 5_000).first)
            #expect(report.firstUncleanableOffset == active)
            #expect(log.logEndOffset == endBefore)
            let (_, records) = try readRecords(log)
            // Records of the active segment are all there.
            #expect(records.filter { $0.offset >= active }.count == Int(endBefore - active))
            // Below it, each key at most once.
            let cleaned = records.filter { $0.offset < active }
            #expect(Set(cleaned.map(\.key)).count == cleaned.count)
        }
    }

    @Test func tombstonesSurviveUntilTheDeleteHorizonThenDisappear() throws {
        let clock = ManualClock(10_000)
        let config = compactConfig(deleteRetentionMs: 1_000)
        try withLog(config, clock: clock) { log, manager, _ in
            _ = try log.append(TestBatches.make([keyed("a", "1"), keyed("b", "1"), keyed("c", "1")]), now: 0)
            _ = try log.append(TestBatches.make([keyed("a", nil), keyed("b", "2")]), now: 0)
            try log.roll()
            let cleaner = LogCleaner(manager: manager, config: smallCleanerConfig(), logger: CapturedLogs().logger)
            let first = try #require(cleaner.cleanOnce(now: 10_000).first)
            #expect(first.tombstonesRemoved == 0)
            var (headers, records) = try readRecords(log)
            #expect(records.map(\.description) == ["2:c=1", "3:a=nil", "4:b=2"])
            // The batch keeping the tombstone now carries the delete horizon (attribute bit 6).
            let tombstoneBatch = try #require(headers.first { $0.lastOffset == 4 })
            #expect(tombstoneBatch.attributes.hasDeleteHorizon)
            #expect(tombstoneBatch.baseTimestamp == 11_000)
            #expect(records.first { $0.offset == 3 }?.timestamp == 1_000)

            // Before the horizon, another cleaning keeps it.
            _ = try log.append(TestBatches.make([keyed("d", "1")]), now: 0)
            try log.roll()
            _ = cleaner.cleanOnce(now: 10_999)
            (headers, records) = try readRecords(log)
            #expect(records.contains { $0.offset == 3 && $0.value == nil })
            // At the horizon it goes; the log end offset stays.
            _ = try log.append(TestBatches.make([keyed("e", "1")]), now: 0)
            try log.roll()
            let end = log.logEndOffset
            let last = try #require(cleaner.cleanOnce(now: 11_000).first)
            #expect(last.tombstonesRemoved == 1)
            (headers, records) = try readRecords(log)
            #expect(records.map(\.description) == ["2:c=1", "4:b=2", "5:d=1", "6:e=1"])
            #expect(log.logEndOffset == end)
        }
    }

    @Test func recordsWithoutKeyAreRemovedAndCountedAsInvalid() throws {
        try withLog(compactConfig()) { log, manager, _ in
            // Client appends reject keyless records on a compacted log; such records come from before a policy
            // change, modelled by the broker-internal append path.
            _ = try log.append(
                TestBatches.make([keyed(nil, "x"), keyed("a", "1"), keyed(nil, "y")]), now: 0, origin: .coordinator)
            _ = try log.append(TestBatches.make([keyed("a", "2")]), now: 0)
            try log.roll()
            let cleaner = LogCleaner(manager: manager, config: smallCleanerConfig(), logger: CapturedLogs().logger)
            let report = try #require(cleaner.cleanOnce(now: 5_000).first)
            #expect(report.recordsWithoutKeyRemoved == 2)
            #expect(try readRecords(log).records.map(\.description) == ["3:a=2"])
        }
    }

    @Test func aRewrittenBatchKeepsItsLastOffsetAndProducerFields() throws {
        try withLog(compactConfig()) { log, manager, _ in
            // Producer 7's batch: a, b, c; then b and c are overwritten.
            _ = try log.append(
                TestBatches.make([keyed("a", "1"), keyed("b", "1"), keyed("c", "1")], producerId: 7, baseSequence: 0),
                now: 0)
            _ = try log.append(TestBatches.make([keyed("b", "2"), keyed("c", "2")]), now: 0)
            // Producer 9 writes one batch whose records all get overwritten: it stays as an empty batch.
            _ = try log.append(TestBatches.make([keyed("b", "3")], producerId: 9, baseSequence: 4), now: 0)
            _ = try log.append(TestBatches.make([keyed("b", "4"), keyed("z", "1")]), now: 0)
            try log.roll()
            let cleaner = LogCleaner(manager: manager, config: smallCleanerConfig(), logger: CapturedLogs().logger)
            _ = try #require(cleaner.cleanOnce(now: 5_000).first)
            let (headers, records) = try readRecords(log)
            #expect(records.map(\.description) == ["0:a=1", "4:c=2", "6:b=4", "7:z=1"])
            let producer7 = try #require(headers.first { $0.producerId == 7 })
            #expect(producer7.baseOffset == 0 && producer7.lastOffset == 2 && producer7.recordsCount == 1)
            #expect(producer7.baseSequence == 0)
            let producer9 = try #require(headers.first { $0.producerId == 9 })
            #expect(producer9.recordsCount == 0 && producer9.baseOffset == 5 && producer9.lastOffset == 5)
            #expect(producer9.baseSequence == 4)
            #expect(producer9.sizeInBytes == 61)
        }
    }

    @Test func compressedBatchesAreRebuiltWithTheirCodec() throws {
        try withLog(compactConfig(segmentBytes: 8_192)) { log, manager, _ in
            for codec in [CompressionCodec.gzip, .lz4, .zstd, .snappy] {
                var builder = RecordBatchBuilder(compression: codec)
                for index in 0..<6 {
                    builder.append(timestamp: 100 + Int64(index), key: Array("k\(index % 3)".utf8), value: Array("\(codec)-\(index)".utf8))
                }
                _ = try log.append(try builder.build(), now: 0)
            }
            try log.roll()
            let cleaner = LogCleaner(manager: manager, config: smallCleanerConfig(), logger: CapturedLogs().logger)
            _ = try #require(cleaner.cleanOnce(now: 5_000).first)
            let (headers, records) = try readRecords(log)
            #expect(records.map(\.description) == ["21:k0=snappy-3", "22:k1=snappy-4", "23:k2=snappy-5"])
            #expect(records.map(\.timestamp) == [103, 104, 105])
            let last = try #require(headers.first { $0.lastOffset == 23 })
            #expect(last.attributes.compression == .snappy)
        }
    }

    @Test func cleanedLogSurvivesCleanAndUncleanReopen() throws {
        try TempDirectory.with("compact-reopen") { dir in
            let config = compactConfig()
            var expected: [StoredRecord] = []
            do {
                let manager = try openManager(dir, config: config)
                let log = try manager.getOrCreateLog(orders0, config: config)
                try appendVersions(log, keys: 4, versions: 20)
                try log.roll()
                let cleaner = LogCleaner(manager: manager, config: smallCleanerConfig(), logger: CapturedLogs().logger)
                _ = try #require(cleaner.cleanOnce(now: 5_000).first)
                expected = try readRecords(log).records
                try manager.close()
            }
            for unclean in [false, true] {
                if unclean { try? FileManager.default.removeItem(atPath: dir.path + "/.kafka_cleanshutdown") }
                let manager = try openManager(dir, config: config)
                let log = try #require(manager.log(for: orders0))
                #expect(try readRecords(log).records == expected)
                #expect(log.loadSummary.bytesTruncated == 0)
                try manager.close()
            }
            let names = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/orders-0")
            #expect(!names.contains { $0.hasSuffix(".cleaned") || $0.hasSuffix(".swap") || $0.hasSuffix(".deleted") })
        }
    }

    @Test func aReaderHoldingOldSegmentsKeepsReadingTheOldBytes() throws {
        try withLog(compactConfig()) { log, manager, _ in
            try appendVersions(log, keys: 3, versions: 20)
            try log.roll()
            let before = try log.read(from: 0, maxBytes: 1 << 20)
            let cleaner = LogCleaner(manager: manager, config: smallCleanerConfig(), logger: CapturedLogs().logger)
            _ = try #require(cleaner.cleanOnce(now: 5_000).first)
            // The slice taken before the swap still reads whole, CRC-valid, uncompacted batches.
            var iterator = RecordBatchIterator(try before.readAllBytes(), verifyCRC: true)
            let batches = try iterator.collect()
            #expect(batches.first?.header.baseOffset == 0)
            #expect(batches.allSatisfy { $0.header.recordsCount == 3 })
            #expect(before.nextOffset == batches.last?.header.nextOffset)
        }
    }

    @Test func aTinyMapCleansInSeveralRoundsToTheSameResult() throws {
        try withLog(compactConfig()) { log, manager, _ in
            for version in 0..<4 {
                for key in 0..<25 { _ = try log.append(TestBatches.make([keyed("k\(key)", "v\(version)")]), now: 0) }
            }
            try log.roll()
            let cleaner = LogCleaner(manager: manager, config: smallCleanerConfig(slots: 8), logger: CapturedLogs().logger)
            let reports = try cleaner.clean(orders0, now: 5_000)
            #expect(reports.count > 1)
            #expect(reports.dropLast().allSatisfy { $0.mapFilled })
            let (_, records) = try readRecords(log)
            #expect(records.map(\.offset) == (75..<100).map(Int64.init))
        }
    }

    @Test func aMapSmallerThanOneBatchFailsAndLeavesTheLogIntact() throws {
        try withLog(compactConfig()) { log, manager, dir in
            try appendVersions(log, keys: 25, versions: 2)
            try log.roll()
            let before = try readRecords(log).records
            let cleaner = LogCleaner(manager: manager, config: smallCleanerConfig(slots: 8), logger: CapturedLogs().logger)
            #expect(throws: CleanerError.self) { try cleaner.clean(orders0, now: 5_000) }
            #expect(try readRecords(log).records == before)
            let names = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/orders-0")
            #expect(!names.contains { $0.hasSuffix(".cleaned") })
        }
    }

    @Test func dryRunReportsWithoutWriting() throws {
        try withLog(compactConfig()) { log, manager, dir in
            try appendVersions(log, keys: 4, versions: 10)
            try log.roll()
            let before = try readRecords(log).records
            let cleaner = LogCleaner(manager: manager, config: smallCleanerConfig(), logger: CapturedLogs().logger)
            let report = try #require(try cleaner.clean(orders0, now: 5_000, dryRun: true).first)
            #expect(report.dryRun)
            #expect(report.recordsBefore == 40 && report.recordsAfter == 4)
            #expect(report.bytesAfter < report.bytesBefore)
            #expect(try readRecords(log).records == before)
            #expect(!FileManager.default.fileExists(atPath: dir.path + "/cleaner-offset-checkpoint"))
        }
    }

    @Test func minCompactionLagKeepsRecentSegmentsDirty() throws {
        var config = compactConfig()
        config.minCompactionLagMs = 1_000
        try withLog(config) { log, manager, _ in
            _ = try log.append(TestBatches.make([keyed("a", "1", at: 100), keyed("a", "2", at: 100)]), now: 0)
            try log.roll()
            _ = try log.append(TestBatches.make([keyed("a", "3", at: 5_000), keyed("a", "4", at: 5_000)]), now: 0)
            try log.roll()
            let cleaner = LogCleaner(manager: manager, config: smallCleanerConfig(), logger: CapturedLogs().logger)
            let report = try #require(cleaner.cleanOnce(now: 5_500).first)
            #expect(report.firstUncleanableOffset == 2)
            #expect(try readRecords(log).records.map(\.description) == ["1:a=2", "2:a=3", "3:a=4"])
        }
    }

    @Test func dirtyRatioDecidesEligibility() throws {
        var config = compactConfig()
        config.minCleanableDirtyRatio = 0.5
        try withLog(config) { log, manager, _ in
            try appendVersions(log, keys: 4, versions: 10)
            try log.roll()
            let cleaner = LogCleaner(manager: manager, config: smallCleanerConfig(), logger: CapturedLogs().logger)
            let candidate = try #require(cleaner.candidates(now: 0).first)
            #expect(candidate.dirtyRatio == 1)
            #expect(candidate.isEligible)
            _ = cleaner.cleanOnce(now: 0)
            // A little new data on a big clean section is below the ratio.
            _ = try log.append(TestBatches.make([keyed("k1", "new")]), now: 0)
            try log.roll()
            let after = try #require(cleaner.candidates(now: 0).first)
            #expect(after.dirtyRatio > 0 && after.dirtyRatio < 0.5)
            #expect(!after.isEligible)
            #expect(cleaner.cleanOnce(now: 0).isEmpty)
        }
    }

    @Test func compactAndDeleteLogsAlsoHonourRetention() throws {
        var config = compactConfig()
        config.cleanupPolicy = .compactAndDelete
        config.retentionMs = 1_000
        try withLog(config) { log, _, _ in
            _ = try log.append(TestBatches.make([keyed("a", "1", at: 100)]), now: 0)
            try log.roll()
            _ = try log.append(TestBatches.make([keyed("b", "1", at: 10_000)]), now: 0)
            #expect(try log.applyRetention(now: 10_500) == 1)
            #expect(log.logStartOffset == 1)
        }
    }

    @Test func cleaningConcurrentWithAppendsRollsAndReadsKeepsEveryLatestValue() throws {
        var logConfig = compactConfig(segmentBytes: 1_024)
        logConfig.minCleanableDirtyRatio = 0.25  // rounds at geometric intervals, not after every roll
        try withLog(logConfig) { log, manager, _ in
            var config = smallCleanerConfig()
            config.threads = 2
            config.backoffMs = 2
            let cleaner = LogCleaner(manager: manager, config: config, logger: CapturedLogs().logger)
            cleaner.start()
            var latest: [String: (offset: Int64, value: String)] = [:]
            for index in 0..<500 {
                let key = "k\(index % 37)"
                let value = index % 11 == 0 ? nil : "v\(index)"
                let info = try log.append(TestBatches.make([keyed(key, value)]), now: 0)
                latest[key] = (info.firstOffset, value ?? "<deleted>")
                if index % 50 == 0 {
                    // A reader racing the cleaner sees whole, CRC-valid batches with increasing offsets.
                    let (headers, _) = try readRecords(log)
                    #expect(zip(headers, headers.dropFirst()).allSatisfy { $0.lastOffset < $1.baseOffset })
                }
            }
            cleaner.stop()
            try log.roll()
            _ = try cleaner.clean(orders0, now: 0)
            let (_, records) = try readRecords(log)
            let state = Dictionary(records.compactMap { r in r.key.map { (String(decoding: $0, as: UTF8.self), r) } }, uniquingKeysWith: { _, new in new })
            #expect(records.count == latest.count)
            for (key, expected) in latest {
                #expect(state[key]?.offset == expected.offset)
                #expect(state[key].map { $0.value.map { String(decoding: $0, as: UTF8.self) } ?? "<deleted>" } == expected.value)
            }
        }
    }

    @Test func backgroundThreadsCleanAndStop() throws {
        try withLog(compactConfig()) { log, manager, _ in
            try appendVersions(log, keys: 3, versions: 20)
            try log.roll()
            let cleaner = LogCleaner(manager: manager, config: smallCleanerConfig(), logger: CapturedLogs().logger)
            cleaner.start()
            // Wait (bounded) for the first round.
            for _ in 0..<400 where cleaner.stats.cleanings == 0 { usleep(10_000) }
            cleaner.stop()
            #expect(cleaner.stats.cleanings >= 1)
            #expect(try readRecords(log).records.count == 3)
        }
    }
}

@Suite struct ReadFollowUpTests {
    @Test func nextOffsetIsAfterTheLastBatchReturned() throws {
        try withLog { log, _, _ in
            _ = try log.append(TestBatches.make(count: 3), now: 0)
            _ = try log.append(TestBatches.make(count: 2), now: 0)
            let all = try log.read(from: 0, maxBytes: 1 << 20)
            #expect(all.nextOffset == 5)
            let first = try log.read(from: 1, maxBytes: 10)  // minOneBatch
            #expect(first.nextOffset == 3)
            let empty = try log.read(from: 5, maxBytes: 100)
            #expect(empty.nextOffset == 5 && empty.chunks.isEmpty)
        }
    }

    @Test func timestampLookupIsExactInsideCompressedBatches() throws {
        try withLog { log, _, _ in
            var builder = RecordBatchBuilder(compression: .lz4)
            for (index, time) in [100, 300, 200, 400].enumerated() {
                builder.append(timestamp: Int64(time), key: nil, value: Array("v\(index)".utf8))
            }
            _ = try log.append(try builder.build(), now: 0)
            #expect(try log.offsetForTimestamp(250)?.offset == 1)
            #expect(try log.offsetForTimestamp(250)?.timestamp == 300)
            #expect(try log.offsetForTimestamp(101)?.offset == 1)
            #expect(try log.offsetOfMaxTimestamp()?.offset == 3)
        }
    }
}

extension CompactionTests {
    @Test func clientAppendOfAKeylessRecordToACompactedLogIsRejectedAndWritesNothing() throws {
        try withLog(compactConfig()) { log, _, _ in
            #expect(throws: StorageError.self) {
                _ = try log.append(TestBatches.make([keyed(nil, "x")]), now: 0)
            }
            #expect(log.logEndOffset == 0)
            #expect(log.sizeInBytes == 0)
        }
    }
}
