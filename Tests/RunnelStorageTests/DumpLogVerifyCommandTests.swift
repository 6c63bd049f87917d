import Foundation
import Testing
@testable import RunnelStorage

/// `runnel dump-log` and `runnel verify` run as a user would (the binary is found like `CompactCommandTests`).
@Suite struct DumpLogVerifyCommandTests {
    /// Writes 3 batches of 4 keyed records (offsets 0...11) to orders-0 and closes the manager.
    func prepare(_ dir: TempDirectory) throws -> String {
        let config = testConfig(indexIntervalBytes: 1)
        let manager = try openManager(dir, config: config)
        let log = try manager.getOrCreateLog(orders0, config: config)
        for batch in 0..<3 {
            _ = try log.append(TestBatches.make((0..<4).map { keyed("k\($0)", "value-\(batch)-\($0)") }), now: 0)
        }
        try manager.close()
        return dir.path + "/orders-0/00000000000000000000"
    }

    @Test func dumpLogPrintsBatchesRecordsAndIndexesAsTextAndJSON() throws {
        try TempDirectory.with("cli-dumplog") { dir in
            let stem = try prepare(dir)
            let text = try runRunnel(["dump-log", "--print-records", stem + ".log"])
            #expect(text.status == 0, "\(text.err)")
            #expect(text.out.contains("baseOffset: 8 lastOffset: 11 count: 4"))
            #expect(text.out.contains("isvalid: true"))
            #expect(text.out.contains("offset: 5 ") && text.out.contains("key: k1 value: value-1-1"))

            let json = try runRunnel(["dump-log", "--json", "--max-records", "6", stem + ".log"])
            #expect(json.status == 0, "\(json.err)")
            let objects = try json.out.split(separator: "\n").map {
                try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            }
            let records = objects.filter { $0["type"] as? String == "record" }
            #expect(records.compactMap { $0["offset"] as? Int } == [0, 1, 2, 3, 4, 5])
            #expect(records.last?["value"] as? String == "value-1-1")
            let batches = objects.filter { $0["type"] as? String == "batch" }
            #expect(batches.compactMap { $0["baseOffset"] as? Int } == [0, 4])
            #expect(batches.allSatisfy { $0["crcValid"] as? Bool == true })

            let index = try runRunnel(["dump-log", "--json", stem + ".index"])
            #expect(index.status == 0, "\(index.err)")
            let entries = try index.out.split(separator: "\n").map {
                try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            }
            #expect(!entries.isEmpty)
            #expect(entries.allSatisfy { ($0["offset"] as? Int).map { (0...11).contains($0) } ?? false })
        }
    }

    @Test func dumpLogStopsAtAPartialTail() throws {
        try TempDirectory.with("cli-dumplog-tail") { dir in
            let stem = try prepare(dir)
            let handle = try #require(FileHandle(forWritingAtPath: stem + ".log"))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data([0, 0, 0, 0, 0, 0, 0, 12, 0, 0, 0, 100, 0, 0, 0, 0, 2]))
            try handle.close()
            let result = try runRunnel(["dump-log", stem + ".log"])
            #expect(result.out.contains("baseOffset: 8"))
            #expect(result.out.contains("partial batch of 17 trailing bytes"))
        }
    }

    @Test func verifyPassesACleanDirectoryAndFailsAfterAFlippedByte() throws {
        try TempDirectory.with("cli-verify") { dir in
            let stem = try prepare(dir)
            let clean = try runRunnel(["verify", "--data-dir", dir.path])
            #expect(clean.status == 0, "\(clean.out)\(clean.err)")
            #expect(clean.out.contains("no problems"))
            #expect(clean.out.contains("1 partition(s), 1 segment(s), 3 batch(es)"))

            var bytes = try Data(contentsOf: URL(fileURLWithPath: stem + ".log"))
            bytes[bytes.count - 3] ^= 0xFF  // inside the last batch's records: CRC no longer matches
            try bytes.write(to: URL(fileURLWithPath: stem + ".log"))
            let broken = try runRunnel(["verify", "--data-dir", dir.path])
            #expect(broken.status == 1)
            #expect(broken.out.contains("00000000000000000000.log"))
            #expect(broken.out.contains("CRC mismatch"))

            let json = try runRunnel(["verify", "--data-dir", dir.path, "--json"])
            #expect(json.status == 1)
            #expect(json.out.contains("\"type\":\"summary\""))
        }
    }

    @Test func verifyReportsAMalformedCheckpoint() throws {
        try TempDirectory.with("cli-verify-ckpt") { dir in
            _ = try prepare(dir)
            try "0\n2\norders 0 5\n".write(toFile: dir.path + "/recovery-point-offset-checkpoint", atomically: true, encoding: .utf8)
            let result = try runRunnel(["verify", "--data-dir", dir.path])
            #expect(result.status == 1)
            #expect(result.out.contains("recovery-point-offset-checkpoint") && result.out.contains("declares 2 entries"))
        }
    }

    @Test func helpShowsExamples() throws {
        #expect(try runRunnel(["dump-log", "--help"]).out.contains("EXAMPLES"))
        #expect(try runRunnel(["verify", "--help"]).out.contains("EXAMPLES"))
    }
}
