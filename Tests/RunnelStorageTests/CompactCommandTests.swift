import Foundation
import Testing
@testable import RunnelStorage

/// Locates the `runnel` executable next to the test bundle (built by `swift build --build-tests`), or $RUNNEL_BIN.
func runnelPath() -> String? {
    if let path = ProcessInfo.processInfo.environment["RUNNEL_BIN"], FileManager.default.isExecutableFile(atPath: path) {
        return path
    }
    guard let writer = crashWriterPath() else { return nil }
    let candidate = URL(fileURLWithPath: writer).deletingLastPathComponent().appendingPathComponent("runnel").path
    return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
}

/// Runs `runnel` with `arguments`; returns (exit status, stdout, stderr).
func runRunnel(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    let binary = try #require(runnelPath(), "runnel not found next to the test bundle; build all products first")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

/// `runnel compact` run as a user would (the CLI is tested by running it).
@Suite struct CompactCommandTests {
    func prepare(_ dir: TempDirectory) throws {
        let config = compactConfig()
        let manager = try openManager(dir, config: config)
        let log = try manager.getOrCreateLog(orders0, config: config)
        for version in 0..<10 {
            _ = try log.append(TestBatches.make((0..<4).map { keyed("k\($0)", "v\(version)") }), now: 0)
        }
        try log.roll()
        try manager.close()
    }

    @Test func refusesADirectoryHeldByABrokerAndNamesItsPid() throws {
        try TempDirectory.with("cli-locked") { dir in
            try prepare(dir)
            let holder = try openManager(dir, config: compactConfig())
            defer { try? holder.close() }
            let result = try runRunnel(["compact", "--data-dir", dir.path, "--topic", "orders"])
            #expect(result.status != 0)
            #expect(result.err.contains("pid \(getpid())"))
            #expect(result.err.contains("online"))
        }
    }

    @Test func dryRunThenCompactThenJSON() throws {
        try TempDirectory.with("cli-compact") { dir in
            try prepare(dir)
            let dry = try runRunnel(["compact", "--data-dir", dir.path, "--topic", "orders", "--dry-run"])
            #expect(dry.status == 0, "\(dry.err)")
            #expect(dry.out.contains("Dry run"))
            #expect(dry.out.contains("orders-0") && dry.out.contains("40 -> 4"))
            #expect(!FileManager.default.fileExists(atPath: dir.path + "/cleaner-offset-checkpoint"))

            let real = try runRunnel(["compact", "--data-dir", dir.path, "--topic", "orders", "--partition", "0", "--json"])
            #expect(real.status == 0, "\(real.err)")
            let summaries = try #require(try JSONSerialization.jsonObject(with: Data(real.out.utf8)) as? [[String: Any]])
            #expect(summaries.count == 1)
            #expect(summaries.first?["recordsBefore"] as? Int == 40)
            #expect(summaries.first?["recordsAfter"] as? Int == 4)
            #expect(summaries.first?["topic"] as? String == "orders")

            let manager = try openManager(dir, config: compactConfig())
            defer { try? manager.close() }
            let records = try readRecords(try #require(manager.log(for: orders0))).records
            #expect(records.map(\.offset) == [36, 37, 38, 39])
        }
    }

    @Test func unknownTopicIsAnError() throws {
        try TempDirectory.with("cli-unknown") { dir in
            try prepare(dir)
            let result = try runRunnel(["compact", "--data-dir", dir.path, "--topic", "nope"])
            #expect(result.status != 0)
            #expect(result.err.contains("no topic nope"))
        }
    }
}
