import Foundation
import NIOCore
import RunnelRecords
import Testing
@testable import RunnelStorage

@Suite struct LogManagerTests {
    @Test func secondManagerOnTheSameDirectoryIsRefusedNamingThePid() throws {
        try TempDirectory.with { dir in
            let first = try openManager(dir)
            #expect {
                _ = try openManager(dir)
            } throws: { error in
                guard case let .directoryLocked(path, pid) = error as? StorageError else { return false }
                return path == dir.path && pid == getpid()
            }
            try first.close()
            let again = try openManager(dir)  // released by close
            try again.close()
        }
    }

    @Test func writesMetaPropertiesOnceAndKeepsTheClusterId() throws {
        try TempDirectory.with { dir in
            let first = try openManager(dir)
            let clusterId = first.clusterId
            try first.close()
            let text = try String(contentsOfFile: dir.path + "/meta.properties", encoding: .utf8)
            #expect(text.contains("version=1\n") && text.contains("node.id=1\n") && text.contains("cluster.id=\(clusterId)\n"))
            #expect(clusterId.count == 22)
            let second = try openManager(dir)
            #expect(second.clusterId == clusterId)
            try second.close()
        }
    }

    @Test func cleanReopenScansNothingAndKeepsEverything() throws {
        try TempDirectory.with { dir in
            var expected: [Int64] = []
            do {
                let manager = try openManager(dir, config: testConfig(segmentBytes: 500, indexIntervalBytes: 100))
                let log = try manager.getOrCreateLog(orders0, config: testConfig(segmentBytes: 500, indexIntervalBytes: 100))
                for _ in 0..<30 { expected.append(try log.append(TestBatches.make(count: 3, valueSize: 20), now: 1).firstOffset) }
                try manager.close()
            }
            #expect(FileManager.default.fileExists(atPath: dir.path + "/.kafka_cleanshutdown"))
            let checkpoint = try String(contentsOfFile: dir.path + "/recovery-point-offset-checkpoint", encoding: .utf8)
            #expect(checkpoint == "0\n1\norders 0 90\n")
            let manager = try openManager(dir, config: testConfig(segmentBytes: 500, indexIntervalBytes: 100))
            defer { try? manager.close() }
            #expect(!FileManager.default.fileExists(atPath: dir.path + "/.kafka_cleanshutdown"))
            #expect(manager.hadCleanShutdown)
            let log = try #require(manager.log(for: orders0))
            #expect(log.loadSummary.recoveryBytesScanned == 0)
            #expect(log.loadSummary.segmentsRecovered == 0)
            #expect(log.logEndOffset == 90)
            #expect(log.recoveryPoint == 90)
            #expect(try readAll(log).map(\.baseOffset) == expected)
            // The active segment's indexes grew back, so appends continue with index entries.
            #expect(try log.append(TestBatches.make(count: 1), now: 1).firstOffset == 90)
        }
    }

    @Test func uncleanReopenRecoversFromTheRecoveryPointAndTruncatesATornTail() throws {
        try TempDirectory.with { dir in
            let config = testConfig(segmentBytes: 400)
            let logs = CapturedLogs()
            var logPath = ""
            do {
                let manager = try openManager(dir, config: config)
                let log = try manager.getOrCreateLog(orders0, config: config)
                for _ in 0..<7 { _ = try log.append(TestBatches.make(count: 1, valueSize: 80), now: 1) }  // 149 B each
                manager.waitForBackgroundFlushes()
                try manager.writeCheckpoints()
                #expect(log.segmentBaseOffsets == [0, 2, 4, 6])
                logPath = dir.path + "/orders-0/00000000000000000006.log"
                // Simulate a crash: no close; cut the last batch in half.
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
                try handle.truncate(atOffset: 100)
                try handle.close()
                // Drop the manager without closing: release its lock by deinit.
                _ = manager
            }
            let manager = try openManager(dir, config: config, logs: logs)
            defer { try? manager.close() }
            #expect(!manager.hadCleanShutdown)
            let log = try #require(manager.log(for: orders0))
            #expect(log.logEndOffset == 6)
            #expect(log.loadSummary.segmentsRecovered == 1)  // only the segment holding the recovery point (6)
            #expect(log.loadSummary.bytesTruncated == 100)
            #expect(try fileSize(logPath) == 0)
            #expect(logs.contains("truncated corrupt or torn tail"))
            #expect(try readAll(log).map(\.baseOffset) == [0, 1, 2, 3, 4, 5])
        }
    }

    @Test func sweepsDeletedAndCleanedFilesAndDeleteDirectories() throws {
        try TempDirectory.with { dir in
            do {
                let manager = try openManager(dir)
                _ = try manager.getOrCreateLog(orders0, config: testConfig())
                try manager.close()
            }
            let partition = dir.path + "/orders-0/"
            for name in ["00000000000000000099.log.deleted", "00000000000000000050.log.cleaned", "00000000000000000070.log.swap", "00000000000000000123.index"] {
                _ = FileManager.default.createFile(atPath: partition + name, contents: Data([1, 2, 3]))
            }
            try FileManager.default.createDirectory(atPath: dir.path + "/gone-3.abc-delete", withIntermediateDirectories: true)
            let manager = try openManager(dir)
            defer { try? manager.close() }
            let files = try FileManager.default.contentsOfDirectory(atPath: partition).sorted()
            #expect(files == ["00000000000000000000.index", "00000000000000000000.log", "00000000000000000000.timeindex"])
            #expect(!FileManager.default.fileExists(atPath: dir.path + "/gone-3.abc-delete"))
        }
    }

    @Test func completesAnInterruptedSwap() throws {
        try TempDirectory.with { dir in
            let config = testConfig(segmentBytes: 300)
            do {
                let manager = try openManager(dir, config: config)
                let log = try manager.getOrCreateLog(orders0, config: config)
                for _ in 0..<3 { _ = try log.append(TestBatches.make(count: 1, valueSize: 100), now: 1) }
                try manager.close()
            }
            // A "cleaned" replacement of segments 0 and 1 holding only offset 1, left as .swap files.
            let partition = dir.path + "/orders-0/"
            var swapped = TestBatches.make(count: 1, valueSize: 5)
            swapped.setInteger(Int64(1), at: 0)
            _ = FileManager.default.createFile(atPath: partition + "00000000000000000000.log.swap", contents: Data(swapped.readableBytesView))
            let manager = try openManager(dir, config: config)
            defer { try? manager.close() }
            let log = try #require(manager.log(for: orders0))
            #expect(log.segmentBaseOffsets == [0, 2])
            #expect(try readAll(log).map(\.baseOffset) == [1, 2])
        }
    }

    @Test func deleteLogRemovesTheDirectoryAndTheLogRefusesFurtherUse() throws {
        try TempDirectory.with { dir in
            let manager = try openManager(dir)
            defer { try? manager.close() }
            let log = try manager.getOrCreateLog(orders0, config: testConfig())
            _ = try log.append(TestBatches.make(count: 1), now: 1)
            try manager.deleteLog(orders0)
            #expect(manager.log(for: orders0) == nil)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("orders") }.isEmpty)
            #expect(throws: StorageError.self) { try log.append(TestBatches.make(count: 1), now: 1) }
            let fresh = try manager.getOrCreateLog(orders0, config: testConfig())
            #expect(fresh.logEndOffset == 0)
        }
    }

    @Test func loadsManyPartitionsAndIgnoresForeignDirectories() throws {
        try TempDirectory.with { dir in
            do {
                let manager = try openManager(dir)
                for p in 0..<12 {
                    let log = try manager.getOrCreateLog(TopicPartition(topic: "t-x", partition: Int32(p)), config: testConfig())
                    _ = try log.append(TestBatches.make(count: p + 1), now: 1)
                }
                try manager.close()
            }
            try FileManager.default.createDirectory(atPath: dir.path + "/not_a_partition", withIntermediateDirectories: true)
            let manager = try openManager(dir)
            defer { try? manager.close() }
            let logs = manager.allLogs()
            #expect(logs.count == 12)
            #expect(logs.map(\.logEndOffset) == (0..<12).map { Int64($0 + 1) })
            #expect(logs.map(\.topicPartition.topic).allSatisfy { $0 == "t-x" })
        }
    }
}

@Suite struct TopicPartitionAndConfigTests {
    @Test func directoryNameSplitsAtTheLastDash() {
        #expect(TopicPartition(directoryName: "my-topic-12") == TopicPartition(topic: "my-topic", partition: 12))
        #expect(TopicPartition(directoryName: "nodash") == nil)
        #expect(TopicPartition(directoryName: "t-") == nil)
        #expect(TopicPartition(directoryName: "t-x") == nil)
        #expect(TopicPartition(directoryName: "t--1") == TopicPartition(topic: "t-", partition: 1))
        #expect(TopicPartition(topic: "a", partition: 3).directoryName == "a-3")
    }

    @Test func configAppliesKafkaKeysAndRejectsBadOnes() throws {
        var config = LogConfig()
        try config.apply(["segment.bytes": "1048576", "cleanup.policy": "compact,delete", "message.timestamp.type": "LogAppendTime", "min.insync.replicas": "1"])
        #expect(config.segmentBytes == 1_048_576)
        #expect(config.cleanupPolicy == .compactAndDelete)
        #expect(config.messageTimestampType == .logAppendTime)
        #expect(throws: LogConfigError.self) { try config.apply(["no.such.key": "1"]) }
        #expect(throws: LogConfigError.self) { try config.apply(["segment.bytes": "10"]) }
        #expect(throws: LogConfigError.self) { try config.apply(["retention.ms": "soon"]) }
        let properties = Dictionary(uniqueKeysWithValues: config.kafkaProperties.map { ($0.key, $0.value) })
        #expect(properties["segment.bytes"] == "1048576")
        #expect(properties["max.message.bytes"] == "1048588")
        #expect(properties["cleanup.policy"] == "compact,delete")
    }
}
