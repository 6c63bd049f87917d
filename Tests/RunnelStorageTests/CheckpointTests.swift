import Foundation
import Testing
@testable import RunnelStorage

@Suite struct OffsetCheckpointFileTests {
    @Test func rendersKafkaTextFormatAndParsesItBack() throws {
        let entries: [TopicPartition: Int64] = [
            TopicPartition(topic: "orders", partition: 1): 987,
            TopicPartition(topic: "orders", partition: 0): 1200,
            TopicPartition(topic: "__consumer_offsets", partition: 12): 45,
        ]
        let text = OffsetCheckpointFile.render(entries)
        #expect(text == "0\n3\n__consumer_offsets 12 45\norders 0 1200\norders 1 987\n")
        #expect(try OffsetCheckpointFile.parse(text, path: "x") == entries)
        #expect(try OffsetCheckpointFile.parse("0\n0\n", path: "x").isEmpty)
    }

    @Test(arguments: [
        "1\n0\n", "0\n2\norders 0 1\n", "0\n1\norders 0 1\norders 1 2\n", "0\n1\norders zero 1\n", "0\n1\norders 0\n",
        "", "x\n0\n", "0\n-1\n",
    ])
    func rejectsCorruptText(_ text: String) {
        #expect(throws: StorageError.self) { try OffsetCheckpointFile.parse(text, path: "x") }
    }

    @Test func writesAtomicallyLeavingNoTemporaryFile() throws {
        try TempDirectory.with { dir in
            let path = dir.path + "/recovery-point-offset-checkpoint"
            try OffsetCheckpointFile.write([orders0: 5], to: path)
            try OffsetCheckpointFile.write([orders0: 7], to: path)
            #expect(try OffsetCheckpointFile.read(path) == [orders0: 7])
            #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
            #expect(try OffsetCheckpointFile.read(dir.path + "/missing").isEmpty)
        }
    }

    @Test func corruptCheckpointIsIgnoredWithALogLineAndTheLogIsRecovered() throws {
        try TempDirectory.with { dir in
            do {
                let manager = try openManager(dir)
                let log = try manager.getOrCreateLog(orders0, config: testConfig())
                _ = try log.append(TestBatches.make(count: 3), now: 1)
                try manager.close()
            }
            try Data("garbage\n".utf8).write(to: URL(fileURLWithPath: dir.path + "/recovery-point-offset-checkpoint"))
            try FileManager.default.removeItem(atPath: dir.path + "/.kafka_cleanshutdown")
            let logs = CapturedLogs()
            let manager = try openManager(dir, logs: logs)
            defer { try? manager.close() }
            #expect(logs.contains("ignoring unreadable checkpoint"))
            #expect(manager.log(for: orders0)?.logEndOffset == 3)
            #expect(manager.log(for: orders0)?.loadSummary.segmentsRecovered == 1)
        }
    }
}
