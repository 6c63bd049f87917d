// MessageGen: turns Kafka's message JSON schemas into Swift sources for RunnelProtocol.
//
// Usage: MessageGen [--messages DIR] [--records DIR|none] [--output DIR] [--test-output DIR|none]
// Defaults (relative to this package's root, found from this file's path):
//   --messages ../shared/kafka-protocol/messages
//   --records  ../shared/kafka-protocol/records
//   --output   Sources/RunnelProtocol/Generated
//   --test-output Tests/RunnelProtocolTests/Generated   (random-value builders used by the round-trip tests)
// Output is deterministic (inputs sorted by name); stale generated files in the output folder are removed,
// and files whose content is unchanged are not rewritten (so incremental builds stay incremental).

import Foundation

/// APIs generated from messages/ (by Kafka name, without the Request/Response suffix). `nil` = every API in the
/// folder. Restrict this if the generated module grows too slow to compile.
let apiAllowList: Set<String>? = nil

/// Versioned data schemas generated besides the APIs (headers, consumer protocol, __consumer_offsets records).
let dataAllowList: Set<String> = [
    "RequestHeader", "ResponseHeader",
    "ConsumerProtocolAssignment", "ConsumerProtocolSubscription",
    "OffsetCommitKey", "OffsetCommitValue", "GroupMetadataKey", "GroupMetadataValue",
]

func packageRoot() -> URL {
    // tools/MessageGen/main.swift -> package root
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
}

struct Options {
    var messages: String
    var records: String?
    var output: String
    var testOutput: String?
}

func parseArguments() throws -> Options {
    let root = packageRoot()
    var messages = root.appendingPathComponent("../shared/kafka-protocol/messages").standardized.path
    var records: String? = root.appendingPathComponent("../shared/kafka-protocol/records").standardized.path
    var output = root.appendingPathComponent("Sources/RunnelProtocol/Generated").path
    var testOutput: String? = root.appendingPathComponent("Tests/RunnelProtocolTests/Generated").path
    var arguments = Array(CommandLine.arguments.dropFirst())
    while !arguments.isEmpty {
        let flag = arguments.removeFirst()
        guard !arguments.isEmpty else { throw GeneratorError.io("missing value for \(flag)") }
        let value = arguments.removeFirst()
        switch flag {
        case "--messages": messages = value
        case "--records": records = value == "none" ? nil : value
        case "--output": output = value
        case "--test-output": testOutput = value == "none" ? nil : value
        default: throw GeneratorError.io("unknown argument \(flag)")
        }
    }
    return Options(messages: messages, records: records, output: output, testOutput: testOutput)
}

func jsonFiles(in directory: String) throws -> [String] {
    let names = try FileManager.default.contentsOfDirectory(atPath: directory)
    return names.filter { $0.hasSuffix(".json") }.sorted().map { directory + "/" + $0 }
}

func shouldGenerate(_ spec: MessageSpec) -> Bool {
    switch spec.kind {
    case "request", "response":
        guard let allow = apiAllowList else { return true }
        let suffix = spec.kind == "request" ? "Request" : "Response"
        return allow.contains(String(spec.name.dropLast(suffix.count)))
    default:
        return dataAllowList.contains(spec.name)
    }
}

func run() throws {
    let options = try parseArguments()
    var paths = try jsonFiles(in: options.messages)
    if let recordsDirectory = options.records { paths += try jsonFiles(in: recordsDirectory) }
    var specs: [MessageSpec] = []
    for path in paths {
        let spec = try MessageSpec.load(path: path)
        if shouldGenerate(spec) { specs.append(spec) }
    }
    specs.sort { $0.name < $1.name }

    var files: [String: String] = [:]
    for spec in specs {
        files[spec.name + ".swift"] = try MessageEmitter(spec: spec).render()
    }
    let registry = try RegistryEmitter(specs: specs)
    let inputs = "*Request.json / *Response.json"
    files["ApiKey.swift"] = registry.renderApiKey(inputs: inputs)
    files["KafkaRequest.swift"] = registry.renderEnum(kind: "request", inputs: inputs)
    files["KafkaResponse.swift"] = registry.renderEnum(kind: "response", inputs: inputs)
    try sync(files, to: options.output)

    if let testOutput = options.testOutput {
        var testFiles: [String: String] = [:]
        for spec in specs {
            testFiles[spec.name + "+Random.swift"] = try RandomEmitter(spec: spec).render()
        }
        testFiles["AllGeneratedMessageTypes.swift"] = RandomRegistryEmitter(specs: specs).render(inputs: "all schemas")
        try sync(testFiles, to: testOutput)
    }
}

/// Makes `directory` hold exactly `files` among its generated Swift files: removes stale generated files and
/// rewrites only files whose content changed.
func sync(_ files: [String: String], to directory: String) throws {
    let manager = FileManager.default
    try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
    for name in try manager.contentsOfDirectory(atPath: directory) where name.hasSuffix(".swift") {
        guard files[name] == nil else { continue }
        let path = directory + "/" + name
        if let existing = manager.contents(atPath: path), let text = String(data: existing, encoding: .utf8),
            text.hasPrefix("// Generated by tools/MessageGen")
        {
            try manager.removeItem(atPath: path)
        }
    }
    var written = 0
    for name in files.keys.sorted() {
        guard let text = files[name] else { continue }
        let path = directory + "/" + name
        let data = Data(text.utf8)
        if manager.contents(atPath: path) == data { continue }
        guard manager.createFile(atPath: path, contents: data) else { throw GeneratorError.io("cannot write \(path)") }
        written += 1
    }
    print("MessageGen: \(files.count) files (\(written) changed) in \(directory)")
}

do {
    try run()
} catch {
    FileHandle.standardError.write(Data("MessageGen: \(error)\n".utf8))
    exit(1)
}
