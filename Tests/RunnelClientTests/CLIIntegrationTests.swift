import Foundation
import RunnelClient
import Testing

/// The `runnel` executable's produce / consume / topics commands against the in-process broker.
@Suite(.serialized) struct CLIIntegrationTests {
    private func writeInput(_ text: String, in directory: TemporaryDirectory) throws -> String {
        let path = directory.path + "/input-\(UUID().uuidString).txt"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func producedLinesAreConsumedBackIdentical() async throws {
        try await TestBroker.with { broker in
            let server = ["--bootstrap-server", broker.bootstrap]
            let create = try await CLI.run(["topics", "create", "lines", "--partitions", "3"] + server)
            #expect(create.status == 0, "\(create.stderr)")
            // Lines of varied lengths, UTF-8, an empty one, and one with a tab.
            let lines = (0..<5000).map { "line \($0) " + String(repeating: "é", count: $0 % 17) } + ["", "tab\there"]
            let input = try writeInput(lines.joined(separator: "\n") + "\n", in: broker.directory)
            let produce = try await CLI.run(["produce", "lines", "--file", input, "--batch-size", "16384"] + server)
            #expect(produce.status == 0, "\(produce.stderr)")
            #expect(produce.stderr.contains("5002 records acknowledged"))

            let consume = try await CLI.run(
                ["consume", "lines", "--from-beginning", "--exit-at-end", "--format", "%p %o %s\\n"] + server)
            #expect(consume.status == 0, "\(consume.stderr)")
            var byPartition: [Int: [(Int, String)]] = [:]
            for row in consume.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                let parts = row.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
                try #require(parts.count == 3)
                byPartition[Int(parts[0]) ?? -1, default: []].append((Int(parts[1]) ?? -1, String(parts[2])))
            }
            // Null keys stick to a partition per batch: each partition holds runs of the input in order.
            var all: [String] = []
            for (_, rows) in byPartition {
                #expect(rows.map(\.0) == Array(0..<rows.count))
                all += rows.map(\.1)
            }
            #expect(all.sorted() == lines.sorted())
            #expect(Set(byPartition.keys).isSubset(of: [0, 1, 2]))
        }
    }

    @Test func stdinKeysHeadersAndPartitionRoundTrip() async throws {
        try await TestBroker.with { broker in
            let server = ["--bootstrap-server", broker.bootstrap]
            _ = try await CLI.run(["topics", "create", "kv", "--partitions", "2"] + server)
            let input = try writeInput("a:1\nb:2\nno-separator\n", in: broker.directory)
            let produce = try await CLI.run(
                ["produce", "kv", "--key-separator", ":", "--header", "src=test", "--header", "x=y", "--partition", "1",
                 "--compression", "zstd"] + server,
                stdinPath: input)
            #expect(produce.status == 0, "\(produce.stderr)")
            let consume = try await CLI.run(
                ["consume", "kv", "--partition", "1", "--offset", "earliest", "--exit-at-end", "--format",
                 "%o|%k|%s|%h|%K\\n"] + server)
            #expect(consume.stdoutText == "0|a|1|src=test,x=y|1\n1|b|2|src=test,x=y|1\n2||no-separator|src=test,x=y|-1\n")
            let limited = try await CLI.run(["consume", "kv", "--offset", "earliest", "--max", "2"] + server)
            #expect(limited.stdoutText == "1\n2\n")
        }
    }

    @Test func jsonOutputCanBeProducedAgain() async throws {
        try await TestBroker.with { broker in
            let server = ["--bootstrap-server", broker.bootstrap]
            _ = try await CLI.run(["topics", "create", "src", "--partitions", "1"] + server)
            _ = try await CLI.run(["topics", "create", "dst", "--partitions", "1"] + server)
            let objects = [
                #"{"key":"k1","value":"v1","headers":{"h":"1"},"timestamp":1600000000000}"#,
                #"{"value":"only value"}"#,
                #"{"key":"tomb","value":null}"#,
            ]
            let input = try writeInput(objects.joined(separator: "\n") + "\n", in: broker.directory)
            #expect(try await CLI.run(["produce", "src", "--json"] + server, stdinPath: input).status == 0)
            let first = try await CLI.run(["consume", "src", "--from-beginning", "--exit-at-end", "--json"] + server)
            let copy = try writeInput(first.stdoutText, in: broker.directory)
            #expect(try await CLI.run(["produce", "dst", "--json"] + server, stdinPath: copy).status == 0)
            let second = try await CLI.run(["consume", "dst", "--from-beginning", "--exit-at-end", "--json"] + server)
            let expected = [
                #"{"topic":"dst","partition":0,"offset":0,"timestamp":1600000000000,"key":"k1","value":"v1","headers":{"h":"1"}}"#,
                #"{"topic":"dst","partition":0,"offset":2,"timestamp":"#,
            ]
            let rows = second.stdoutText.split(separator: "\n").map(String.init)
            try #require(rows.count == 3)
            #expect(rows[0] == expected[0])
            #expect(rows[1].contains(#""key":null,"value":"only value""#))
            #expect(rows[2].hasPrefix(expected[1]) && rows[2].hasSuffix(#""key":"tomb","value":null,"headers":{}}"#))
        }
    }

    @Test func topicsCommandsCreateDescribeAlterAndDelete() async throws {
        try await TestBroker.with { broker in
            let server = ["--bootstrap-server", broker.bootstrap]
            let create = try await CLI.run(
                ["topics", "create", "admin", "--partitions", "2", "--config", "retention.ms=60000"] + server)
            #expect(create.stdoutText == "created topic admin with 2 partition(s)\n")
            let again = try await CLI.run(["topics", "create", "admin"] + server)
            #expect(again.status == 1)
            #expect(again.stderr.contains("TOPIC_ALREADY_EXISTS"))
            #expect(try await CLI.run(["topics", "create", "admin", "--if-not-exists"] + server).status == 0)

            let input = try writeInput("x\ny\n", in: broker.directory)
            _ = try await CLI.run(["produce", "admin", "--partition", "1"] + server, stdinPath: input)
            #expect(try await CLI.run(["topics", "alter", "admin", "--partitions", "4", "--config", "retention.ms=120000"] + server).status == 0)
            let describe = try await CLI.run(["topics", "describe", "admin"] + server)
            #expect(describe.stdoutText.contains("Partitions: 4"))
            #expect(describe.stdoutText.contains("Partition: 1\tLeader: 1"))
            #expect(describe.stdoutText.contains("Earliest: 0\tLatest: 2\tRecords: 2\tSize: "))  // DescribeLogDirs
            #expect(describe.stdoutText.contains("Records: 0\tSize: 0"))
            #expect(describe.stdoutText.contains("retention.ms=120000"))
            #expect(try await CLI.run(["topics", "list"] + server).stdoutText.split(separator: "\n").contains("admin"))

            #expect(try await CLI.run(["topics", "delete", "admin"] + server).status == 0)
            let missing = try await CLI.run(["topics", "describe", "admin"] + server)
            #expect(missing.status == 1)
            #expect(missing.stderr == "runnel: error: topic admin does not exist: create it with `runnel topics create admin`\n")
        }
    }

    @Test func errorsNameTheProblemAndTheFix() async throws {
        let unreachable = try await CLI.run(["consume", "t", "--bootstrap-server", "127.0.0.1:1", "--exit-at-end"])
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.contains("broker not reachable at 127.0.0.1:1"))
        #expect(unreachable.stderr.contains("is `runnel serve` running?"))

        let viaEnv = try await CLI.run(["topics", "list"], environment: ["RUNNEL_BOOTSTRAP_SERVER": "127.0.0.1:1"])
        #expect(viaEnv.stderr.contains("broker not reachable at 127.0.0.1:1"))

        let badOption = try await CLI.run(["consume", "t", "--offset", "soon"])
        #expect(badOption.status != 0)
        #expect(badOption.stderr.contains("--offset must be earliest, latest, N, -N or @timestamp-ms"))

        for command in [["produce"], ["consume"], ["topics"], ["topics", "create"]] {
            let help = try await CLI.run(command + ["--help"])
            #expect(help.stdoutText.contains("EXAMPLES:"), "\(command) --help")
        }
        let produceHelp = try await CLI.run(["produce", "--help"]).stdoutText
        #expect(produceHelp.contains("--bootstrap-server"))
        #expect(produceHelp.contains("RUNNEL_BOOTSTRAP_SERVER"))
    }

    @Test func failedRecordsGiveANonZeroExitAndAClearMessage() async throws {
        try await TestBroker.with { broker in
            let server = ["--bootstrap-server", broker.bootstrap]
            _ = try await CLI.run(["topics", "create", "tiny", "--partitions", "1", "--config", "max.message.bytes=1000"] + server)
            let input = try writeInput("small\n" + String(repeating: "x", count: 3000) + "\n", in: broker.directory)
            let produce = try await CLI.run(["produce", "tiny", "--linger-ms", "0"] + server, stdinPath: input)
            #expect(produce.status == 1)
            #expect(produce.stderr.contains("MESSAGE_TOO_LARGE"))
            #expect(produce.stderr.contains("records were not acknowledged"))

            let missing = try await CLI.run(["produce", "missing"] + server, stdinPath: input)
            #expect(missing.status == 1)
            #expect(missing.stderr.contains("topic missing does not exist: create it with `runnel topics create missing`"))
        }
    }
}
