import Foundation

/// Runs the `runnel` executable: `$RUNNEL_BIN`, else `runnel` next to the test bundle (the build's products dir).
enum CLI {
    struct Result {
        var status: Int32
        var stdout: Data
        var stderr: String
        var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    }

    enum CLIError: Error, CustomStringConvertible {
        case binaryNotFound(String)
        case timedOut([String])
        var description: String {
            switch self {
            case let .binaryNotFound(path): "runnel binary not found at \(path): build the runnel product or set RUNNEL_BIN"
            case let .timedOut(arguments): "runnel \(arguments.joined(separator: " ")) did not finish in time"
            }
        }
    }

    static func binaryPath() throws -> String {
        if let env = ProcessInfo.processInfo.environment["RUNNEL_BIN"], !env.isEmpty { return env }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // On Linux the tests run as <products>/RunnelPackageTests.xctest; on macOS inside a bundle.
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("runnel").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        throw CLIError.binaryNotFound(directory.path)
    }

    /// Runs `runnel ARGUMENTS` with `stdin` as standard input (a file path, or nil for /dev/null), waiting at
    /// most `timeoutSeconds` (then the process is killed and the call throws).
    ///
    /// Async, and waiting with `Task.sleep`, so it never blocks a thread of the cooperative pool (the in-process
    /// broker's tasks need them while the subprocess talks to it).
    static func run(_ arguments: [String], stdinPath: String? = nil, environment: [String: String] = [:],
                    timeoutSeconds: Double = 60) async throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try binaryPath())
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "RUNNEL_BOOTSTRAP_SERVER")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardInput = stdinPath.flatMap { FileHandle(forReadingAtPath: $0) } ?? FileHandle.nullDevice
        let stdoutFile = FileManager.default.temporaryDirectory.appendingPathComponent("runnel-cli-\(UUID().uuidString).out")
        let stderrFile = FileManager.default.temporaryDirectory.appendingPathComponent("runnel-cli-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: stdoutFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: stdoutFile)
            try? FileManager.default.removeItem(at: stderrFile)
        }
        let out = try FileHandle(forWritingTo: stdoutFile)
        let err = try FileHandle(forWritingTo: stderrFile)
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning {
            if Date() > deadline {
                process.terminate()
                process.waitUntilExit()
                throw CLIError.timedOut(arguments)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        try out.close()
        try err.close()
        return Result(
            status: process.terminationStatus, stdout: (try? Data(contentsOf: stdoutFile)) ?? Data(),
            stderr: String(decoding: (try? Data(contentsOf: stderrFile)) ?? Data(), as: UTF8.self))
    }
}
