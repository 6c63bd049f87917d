import Foundation
import NIOCore
import RunnelRecords
import Testing
@testable import RunnelStorage

/// Opens a manager in a temp dir, creates `orders-0` with `config`, runs `body`, closes and cleans up.
func withLog(
    _ config: LogConfig = testConfig(), clock: ManualClock = ManualClock(), readCacheBytes: Int = 256 << 20,
    _ body: (PartitionLog, LogManager, TempDirectory) throws -> Void
) throws {
    try TempDirectory.with { dir in
        let manager = try openManager(dir, config: config, clock: clock, readCacheBytes: readCacheBytes)
        defer { try? manager.close() }
        let log = try manager.getOrCreateLog(orders0, config: config)
        try body(log, manager, dir)
    }
}

/// Every batch in the log from `offset`, reading until the end.
func readAll(_ log: PartitionLog, from offset: Int64 = 0, maxBytes: Int = 1 << 20) throws -> [RecordBatchHeader] {
    var headers: [RecordBatchHeader] = []
    var next = max(offset, log.logStartOffset)
    while next < log.logEndOffset {
        let result = try log.read(from: next, maxBytes: maxBytes)
        let batches = try TestBatches.split(try result.readAllBytes())
        guard let last = batches.last else { break }
        headers += batches.map(\.header)
        next = last.header.nextOffset
    }
    return headers
}

@Suite struct PartitionLogAppendTests {
    @Test func appendAssignsOffsetsByRewritingOnlyBaseOffsetAndEpoch() throws {
        try withLog { log, _, _ in
            let first = TestBatches.make(count: 3)
            let second = TestBatches.make(count: 2, fill: 0x62)
            let a = try log.append(first, now: 10)
            let b = try log.append(second, now: 10)
            #expect((a.firstOffset, a.lastOffset, b.firstOffset, b.lastOffset) == (0, 2, 3, 4))
            #expect(a.logAppendTime == -1 && !a.flushNeeded)
            #expect(log.logEndOffset == 5)
            let stored = try TestBatches.split(try log.read(from: 0, maxBytes: 1 << 20).readAllBytes())
            #expect(stored.map(\.header.baseOffset) == [0, 3])
            #expect(stored.map(\.header.partitionLeaderEpoch) == [0, 0])
            #expect(payloadAfterHeaderPrefix(stored[0].bytes) == payloadAfterHeaderPrefix(first))
            #expect(payloadAfterHeaderPrefix(stored[1].bytes) == payloadAfterHeaderPrefix(second))
        }
    }

    @Test func corruptBatchIsRejectedAndNothingIsWritten() throws {
        try withLog { log, _, _ in
            _ = try log.append(TestBatches.make(count: 1), now: 1)
            let size = log.sizeInBytes
            var bad = TestBatches.make(count: 2)
            bad.setInteger(UInt8(0xFF), at: bad.writerIndex - 1)
            #expect {
                try log.append(bad, now: 1)
            } throws: { error in
                guard case .invalidBatch(.crcMismatch) = error as? StorageError else { return false }
                return true
            }
            var wrongCount = TestBatches.make(count: 2)
            wrongCount.setInteger(Int32(5), at: 57)
            TestBatches.recomputeCRC(&wrongCount, at: 0)
            #expect(throws: StorageError.self) { try log.append(wrongCount, now: 1) }
            var badMagic = TestBatches.make(count: 1)
            badMagic.setInteger(Int8(1), at: 16)
            #expect(throws: StorageError.self) { try log.append(badMagic, now: 1) }
            var nonZeroBase = TestBatches.make(count: 1)
            nonZeroBase.setInteger(Int64(7), at: 0)
            #expect(throws: StorageError.self) { try log.append(nonZeroBase, now: 1) }
            let truncated = TestBatches.make(count: 2).getSlice(at: 0, length: 70) ?? ByteBuffer()
            #expect(throws: StorageError.self) { try log.append(truncated, now: 1) }
            #expect(log.sizeInBytes == size)
            #expect(log.logEndOffset == 1)
        }
    }

    @Test func batchLargerThanMaxMessageBytesIsRejected() throws {
        var config = testConfig()
        config.maxMessageBytes = 200
        try withLog(config) { log, _, _ in
            #expect {
                try log.append(TestBatches.make(count: 1, valueSize: 300), now: 1)
            } throws: { error in
                guard case .messageTooLarge(let size, 200) = error as? StorageError else { return false }
                return size > 300
            }
            #expect(log.sizeInBytes == 0)
        }
    }

    @Test func appendLargerThanSegmentBytesIsRecordListTooLarge() throws {
        try withLog(testConfig(segmentBytes: 150)) { log, _, _ in
            var two = TestBatches.make(count: 1, valueSize: 40)
            var other = TestBatches.make(count: 1, valueSize: 40)
            two.writeBuffer(&other)
            #expect {
                try log.append(two, now: 1)
            } throws: { error in
                guard case .recordListTooLarge = error as? StorageError else { return false }
                return true
            }
        }
    }

    @Test func logAppendTimeStampsMaxTimestampAndRecomputesTheCRC() throws {
        var config = testConfig()
        config.messageTimestampType = .logAppendTime
        try withLog(config) { log, _, _ in
            let info = try log.append(TestBatches.make(count: 2, timestamp: 5), now: 777)
            #expect(info.logAppendTime == 777)
            let stored = try TestBatches.split(try log.read(from: 0, maxBytes: 4096).readAllBytes())  // validates CRC
            #expect(stored[0].header.maxTimestamp == 777)
            #expect(stored[0].header.attributes.isLogAppendTime)
            #expect(try log.offsetForTimestamp(700)?.offset == 0)
        }
    }

    @Test func flushMessagesPolicyIsReportedAndFlushAdvancesRecoveryPoint() throws {
        var config = testConfig()
        config.flushMessages = 3
        try withLog(config) { log, _, _ in
            #expect(try !log.append(TestBatches.make(count: 2), now: 1).flushNeeded)
            #expect(try log.append(TestBatches.make(count: 1), now: 1).flushNeeded)
            #expect(log.recoveryPoint == 0)
            try log.flush()
            #expect(log.recoveryPoint == 3)
            #expect(try !log.append(TestBatches.make(count: 1), now: 1).flushNeeded)
        }
    }

    @Test func flushMsPolicyIsReported() throws {
        var config = testConfig()
        config.flushMs = 1_000
        let clock = ManualClock()
        try withLog(config, clock: clock) { log, _, _ throws in
            #expect(try !log.append(TestBatches.make(count: 1), now: clock.read()).flushNeeded)
            clock.advance(by: 1_000)
            #expect(try log.append(TestBatches.make(count: 1), now: clock.read()).flushNeeded)
            #expect(log.needsFlush(now: clock.read()))
        }
    }

    @Test func fullDiskWriteFailsWithErrnoAndLeavesLogConsistent() throws {
        try withLog { log, _, dir in
            _ = try log.append(TestBatches.make(count: 2), now: 1)
            let size = log.sizeInBytes
            log.injectWriteFault(WriteFault(bytesBeforeFailure: 30, errno: ENOSPC))
            #expect {
                try log.append(TestBatches.make(count: 3), now: 1)
            } throws: { error in
                guard case .io(_, _, ENOSPC) = error as? StorageError else { return false }
                return true
            }
            #expect(log.sizeInBytes == size)
            #expect(log.logEndOffset == 2)
            #expect(try fileSize(dir.path + "/orders-0/00000000000000000000.log") == Int(size))
            #expect(try readAll(log).count == 1)
            let next = try log.append(TestBatches.make(count: 1), now: 1)
            #expect(next.firstOffset == 2)
            #expect(try readAll(log).map(\.baseOffset) == [0, 2])
        }
    }

    @Test func fsyncFailureIsReportedAndRecoveryPointStays() throws {
        try withLog { log, _, _ in
            _ = try log.append(TestBatches.make(count: 2), now: 1)
            log.injectSyncFault(errno: EIO)
            #expect(throws: StorageError.self) { try log.flush() }
            #expect(log.recoveryPoint == 0)
            log.injectSyncFault(errno: nil)
            try log.flush()
            #expect(log.recoveryPoint == 2)
        }
    }

    @Test func appendAsFollowerKeepsOffsetsAndRejectsGoingBackwards() throws {
        try withLog { log, _, _ in
            let batch = TestBatches.make(count: 2)
            var placed = batch
            placed.setInteger(Int64(10), at: 0)
            let info = try log.appendAsFollower(placed)
            #expect((info.firstOffset, info.lastOffset) == (10, 11))
            #expect(log.logEndOffset == 12)
            #expect(throws: StorageError.self) { try log.appendAsFollower(placed) }
            #expect(try readAll(log, from: 10).map(\.baseOffset) == [10])
        }
    }
}

@Suite struct PartitionLogReadTests {
    @Test func readFromMidBatchStartsAtTheContainingBatch() throws {
        // Cache disabled: this checks the disk path's zero-copy slice (`ReadCacheIntegrationTests` covers hits).
        try withLog(readCacheBytes: 0) { log, _, _ in
            for _ in 0..<4 { _ = try log.append(TestBatches.make(count: 5), now: 1) }
            let result = try log.read(from: 12, maxBytes: 1 << 20)
            let batches = try TestBatches.split(try result.readAllBytes())
            #expect(batches.map(\.header.baseOffset) == [10, 15])
            #expect(result.highWatermark == 20 && result.logEndOffset == 20 && result.logStartOffset == 0)
            guard case .file(let slice) = result.chunks.first else {
                Issue.record("expected a zero-copy file slice")
                return
            }
            #expect(slice.file.fileDescriptor >= 0)
        }
    }

    @Test func readAtLogEndIsEmptyAndBeyondIsOutOfRange() throws {
        try withLog { log, _, _ in
            _ = try log.append(TestBatches.make(count: 3), now: 1)
            let atEnd = try log.read(from: 3, maxBytes: 100)
            #expect(atEnd.chunks.isEmpty && atEnd.byteCount == 0)
            #expect {
                try log.read(from: 4, maxBytes: 100)
            } throws: { error in
                guard case .offsetOutOfRange(4, 0, 3) = error as? StorageError else { return false }
                return true
            }
            _ = try log.deleteRecords(before: 2)
            #expect(throws: StorageError.self) { try log.read(from: 1, maxBytes: 100) }
            #expect(try log.read(from: 2, maxBytes: 100).byteCount > 0)
        }
    }

    @Test func readRespectsMaxBytesOnBatchBoundariesAndMinOneBatch() throws {
        try withLog { log, _, _ in
            let batch = TestBatches.make(count: 1, valueSize: 100)
            let size = batch.readableBytes
            for _ in 0..<5 { _ = try log.append(batch, now: 1) }
            #expect(try log.read(from: 0, maxBytes: size * 2 + 10).byteCount == size * 2)
            #expect(try log.read(from: 0, maxBytes: 10).byteCount == size)
            #expect(try log.read(from: 0, maxBytes: 10, minOneBatch: false).byteCount == 0)
            #expect(try log.read(from: 1, maxBytes: 1 << 20, maxOffset: 3).byteCount == size * 2)
        }
    }

    @Test func readsUseTheOffsetIndexAcrossManyBatches() throws {
        try withLog(testConfig(indexIntervalBytes: 100)) { log, _, _ in
            for _ in 0..<50 { _ = try log.append(TestBatches.make(count: 2, valueSize: 60), now: 1) }
            for offset: Int64 in [0, 1, 37, 64, 99] {
                let first = try TestBatches.split(try log.read(from: offset, maxBytes: 1).readAllBytes())
                #expect(first.count == 1)
                #expect(first[0].header.baseOffset == offset / 2 * 2)
            }
        }
    }

    @Test func sliceStaysReadableAfterItsSegmentIsDeleted() throws {
        try withLog(testConfig(segmentBytes: 300)) { log, _, _ in
            for _ in 0..<6 { _ = try log.append(TestBatches.make(count: 1, valueSize: 100), now: 1) }
            #expect(log.segmentCount > 2)
            let result = try log.read(from: 0, maxBytes: 1 << 20)
            _ = try log.deleteRecords(before: 4)
            #expect(try log.applyRetention(now: 1) >= 1)
            let batches = try TestBatches.split(try result.readAllBytes())
            #expect(batches.first?.header.baseOffset == 0)
        }
    }
}

@Suite struct PartitionLogRollTests {
    @Test func rollsWhenSegmentBytesWouldBeExceeded() throws {
        try withLog(testConfig(segmentBytes: 400)) { log, manager, dir in
            let batch = TestBatches.make(count: 1, valueSize: 80)  // 149 bytes: two fit in 400
            for _ in 0..<5 { _ = try log.append(batch, now: 1) }
            #expect(log.segmentBaseOffsets == [0, 2, 4])
            manager.waitForBackgroundFlushes()
            #expect(log.recoveryPoint == 4)
            let files = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/orders-0").sorted()
            #expect(files.contains("00000000000000000002.log"))
            #expect(files.contains("00000000000000000002.index"))
            #expect(files.contains("00000000000000000002.timeindex"))
            // Rolled segments' indexes are trimmed; the active one is preallocated.
            #expect(try fileSize(dir.path + "/orders-0/00000000000000000000.index") == 0)
            #expect(try fileSize(dir.path + "/orders-0/00000000000000000000.timeindex") == 12)
            #expect(try fileSize(dir.path + "/orders-0/00000000000000000004.index") == 1 << 16)
            #expect(try readAll(log).map(\.baseOffset) == [0, 1, 2, 3, 4])
        }
    }

    @Test func rollsWhenSegmentMsHasPassedBetweenRecordTimestamps() throws {
        var config = testConfig()
        config.segmentMs = 1_000
        try withLog(config) { log, _, _ in
            _ = try log.append(TestBatches.make(count: 1, timestamp: 10_000), now: 1)
            _ = try log.append(TestBatches.make(count: 1, timestamp: 10_900), now: 1)
            #expect(log.segmentCount == 1)
            _ = try log.append(TestBatches.make(count: 1, timestamp: 11_001), now: 1)
            #expect(log.segmentBaseOffsets == [0, 2])
        }
    }

    @Test func rollsWhenTheIndexIsFull() throws {
        // 3 offset-index entries, 2 usable time-index entries (36 bytes / 12, one reserved).
        try withLog(testConfig(indexIntervalBytes: 0, segmentIndexBytes: 36)) { log, _, _ in
            for i in 0..<6 { _ = try log.append(TestBatches.make(count: 1, timestamp: Int64(100 + i)), now: 1) }
            #expect(log.segmentCount >= 2)
            #expect(try readAll(log).count == 6)
        }
    }

    @Test func rollsWhenRelativeOffsetWouldOverflow() throws {
        try withLog { log, _, _ in
            _ = try log.append(TestBatches.make(count: 1), now: 1)
            var far = TestBatches.make(count: 1)
            far.setInteger(Int64(Int32.max) + 5, at: 0)
            _ = try log.appendAsFollower(far)
            #expect(log.segmentBaseOffsets == [0, Int64(Int32.max) + 5])
        }
    }
}

@Suite struct PartitionLogTimestampTests {
    @Test func offsetForTimestampFindsTheFirstRecordAtOrAfterIt() throws {
        try withLog(testConfig(segmentBytes: 300, indexIntervalBytes: 50)) { log, _, _ in
            // Records at 1000..1019 in batches of 2; one batch with out-of-order timestamps.
            for b in 0..<10 {
                let t = Int64(1_000 + b * 2)
                _ = try log.append(
                    TestBatches.make([TestRecord(key: nil, value: [1], timestamp: t + 1), TestRecord(key: nil, value: [2], timestamp: t)]),
                    now: 1)
            }
            #expect(try log.offsetForTimestamp(0)! == (0, 1_001))
            #expect(try log.offsetForTimestamp(1_000)! == (0, 1_001))
            #expect(try log.offsetForTimestamp(1_010)! == (10, 1_011))
            #expect(try log.offsetForTimestamp(1_019)! == (18, 1_019))
            #expect(try log.offsetForTimestamp(1_020) == nil)
            #expect(try log.offsetOfMaxTimestamp()! == (18, 1_019))
        }
    }

    @Test func emptyLogHasNoMaxTimestamp() throws {
        try withLog { log, _, _ throws in
            #expect(try log.offsetOfMaxTimestamp() == nil)
            #expect(try log.offsetForTimestamp(0) == nil)
        }
    }
}

@Suite struct RetentionTests {
    @Test func retentionMsDeletesOldSegmentsButNeverTheActiveOne() throws {
        var config = testConfig(segmentBytes: 200)
        config.retentionMs = 1_000
        try withLog(config) { log, _, dir in
            for i in 0..<4 { _ = try log.append(TestBatches.make(count: 1, valueSize: 100, timestamp: Int64(i * 1_000)), now: 1) }
            #expect(log.segmentBaseOffsets == [0, 1, 2, 3])
            #expect(try log.applyRetention(now: 2_500) == 2)  // ts 0 and 1000 are > 1000 ms old
            #expect(log.segmentBaseOffsets == [2, 3])
            #expect(log.logStartOffset == 2)
            #expect(try log.applyRetention(now: 1_000_000) == 1)  // never the active segment
            #expect(log.segmentBaseOffsets == [3])
            let files = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/orders-0")
            #expect(!files.contains { $0.hasPrefix("00000000000000000000") || $0.hasSuffix(".deleted") })
            #expect(throws: StorageError.self) { try log.read(from: 0, maxBytes: 10) }
        }
    }

    @Test func retentionBytesDeletesOldestWhileTheLogStaysAboveTheLimit() throws {
        var config = testConfig(segmentBytes: 200)
        try withLog(config) { log, _, _ in
            for _ in 0..<5 { _ = try log.append(TestBatches.make(count: 1, valueSize: 100), now: 1) }
            let segmentSize = log.sizeInBytes / 5
            config.retentionBytes = segmentSize * 3
            log.updateConfig(config)
            #expect(try log.applyRetention(now: 1) == 2)
            #expect(log.segmentBaseOffsets == [2, 3, 4])
        }
    }

    @Test func deleteRecordsMovesLogStartOffsetPersistedAcrossReopen() throws {
        try TempDirectory.with { dir in
            do {
                let manager = try openManager(dir, config: testConfig(segmentBytes: 200))
                let log = try manager.getOrCreateLog(orders0, config: testConfig(segmentBytes: 200))
                for _ in 0..<4 { _ = try log.append(TestBatches.make(count: 2, valueSize: 60), now: 1) }
                #expect(try log.deleteRecords(before: 3) == 3)
                #expect(try log.deleteRecords(before: 1) == 3)
                #expect(throws: StorageError.self) { try log.deleteRecords(before: 9) }
                #expect(try log.applyRetention(now: 1) == 1)  // segment [0, 2) is wholly below 3
                #expect(log.segmentBaseOffsets.first == 2)
                try manager.close()
                let text = try String(contentsOfFile: dir.path + "/log-start-offset-checkpoint", encoding: .utf8)
                #expect(text == "0\n1\norders 0 3\n")
            }
            let manager = try openManager(dir, config: testConfig(segmentBytes: 200))
            defer { try? manager.close() }
            #expect(manager.log(for: orders0)?.logStartOffset == 3)
            #expect(try TestBatches.split(try manager.log(for: orders0)!.read(from: 3, maxBytes: 1000).readAllBytes()).first?.header.baseOffset == 2)
        }
    }
}
