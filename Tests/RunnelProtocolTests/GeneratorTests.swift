import Foundation
import Testing

/// Regenerating from the JSON schemas must reproduce the committed Generated/ folders byte for byte.
@Suite struct GeneratorTests {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The MessageGen binary next to the test bundle (SwiftPM puts all products in one directory).
    static func messageGenBinary() -> URL? {
        var candidates: [URL] = []
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        for _ in 0..<4 {  // …/debug/RunnelPackageTests.xctest (Linux) or …/debug/X.xctest/Contents/MacOS/X
            candidates.append(directory.appendingPathComponent("MessageGen"))
            directory = directory.deletingLastPathComponent()
        }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    @Test func regeneratingChangesNothing() throws {
        guard let binary = Self.messageGenBinary() else {
            let message =
                "MessageGen binary not found next to the test bundle (\(CommandLine.arguments[0])); "
                + "build all products first: swift build --build-tests"
            Issue.record(Comment(rawValue: message))
            return
        }
        let temporary = FileManager.default.temporaryDirectory
            .appendingPathComponent("runnel-messagegen-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: temporary) }
        let sources = temporary.appendingPathComponent("Sources")
        let tests = temporary.appendingPathComponent("Tests")
        let shared = Self.packageRoot.appendingPathComponent("../shared/kafka-protocol").standardized

        let process = Process()
        process.executableURL = binary
        process.arguments = [
            "--messages", shared.appendingPathComponent("messages").path,
            "--records", shared.appendingPathComponent("records").path,
            "--output", sources.path,
            "--test-output", tests.path,
        ]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "MessageGen failed")

        try expectSameFiles(
            generated: sources, committed: Self.packageRoot.appendingPathComponent("Sources/RunnelProtocol/Generated"))
        try expectSameFiles(
            generated: tests, committed: Self.packageRoot.appendingPathComponent("Tests/RunnelProtocolTests/Generated"))
    }

    func expectSameFiles(generated: URL, committed: URL) throws {
        let manager = FileManager.default
        let generatedNames = Set(try manager.contentsOfDirectory(atPath: generated.path))
        let committedNames = Set(try manager.contentsOfDirectory(atPath: committed.path))
        let missing = generatedNames.subtracting(committedNames).sorted()
        let stale = committedNames.subtracting(generatedNames).sorted()
        #expect(
            generatedNames == committedNames,
            "file sets differ in \(committed.lastPathComponent): missing \(missing), stale \(stale); run MessageGen")
        for name in generatedNames.intersection(committedNames).sorted() {
            let fresh = manager.contents(atPath: generated.appendingPathComponent(name).path)
            let existing = manager.contents(atPath: committed.appendingPathComponent(name).path)
            #expect(fresh == existing, "\(name) is out of date; run MessageGen")
        }
    }
}
