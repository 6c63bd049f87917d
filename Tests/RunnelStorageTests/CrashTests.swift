import Foundation
import Testing
@testable import RunnelStorage

/// Locates the `runnel-crash-writer` binary: $RUNNEL_CRASH_WRITER, else next to the test bundle in the build
/// products directory (`swift build --build-tests` builds it).
func crashWriterPath() -> String? {
    if let path = ProcessInfo.processInfo.environment["RUNNEL_CRASH_WRITER"], FileManager.default.isExecutableFile(atPath: path) {
        return path
    }
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent("runnel-crash-writer").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        directory = directory.deletingLastPathComponent()
    }
    return nil
}

/// Reads stdout lines of a child until `wanted` lines arrived or the pipe closed.
func readLines(_ handle: FileHandle, wanted: Int) -> [String] {
    var lines: [String] = []
    var pending = Data()
    while lines.count < wanted {
        let chunk = handle.availableData
        if chunk.isEmpty { break }
        pending.append(chunk)
        while let newline = pending.firstIndex(of: 0x0A) {
            lines.append(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
            pending.removeSubrange(pending.startIndex...newline)
        }
    }
    return lines
}

@Suite struct CrashTests {
    @Test func everyAcknowledgedOffsetSurvivesSIGKILLMidAppend() throws {
        let writer = try #require(
            crashWriterPath(),
            "runnel-crash-writer not found next to the test bundle; build all products first (swift build --build-tests) or set RUNNEL_CRASH_WRITER")
        var rng = SplitMix(seed: Int(getpid()))
        for round in 0..<4 {
            let dir = TempDirectory("crash")
            defer { dir.remove() }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: writer)
            process.arguments = [dir.path, "1000000"]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let wanted = Int.random(in: 150...400, using: &rng)
            let acks = readLines(output.fileHandleForReading, wanted: wanted)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal, "round \(round): writer exited early")
            let lastAck = try #require(acks.last.flatMap { Int64($0) }, "round \(round): no acknowledgement read")
            #expect(acks.count >= wanted)

            let manager = try openManager(dir)
            defer { try? manager.close() }
            #expect(!manager.hadCleanShutdown)
            let log = try #require(manager.log(for: TopicPartition(topic: "crash", partition: 0)))
            #expect(log.logEndOffset > lastAck, "round \(round): acknowledged offset \(lastAck) lost (LEO \(log.logEndOffset))")
            var next: Int64 = 0
            for batch in try stored(log) {  // CRC-checked
                #expect(batch.baseOffset == next, "offsets must be contiguous")
                next = batch.lastOffset + 1
            }
            #expect(next == log.logEndOffset)
        }
    }
}
