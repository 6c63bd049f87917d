import Foundation
import RunnelClient
import TestSupport
import Testing

/// `--by-duration` parsing: Java's `Duration.parse` forms that kafka-consumer-groups.sh accepts.
struct ISO8601DurationTests {
    @Test func parsesDaysHoursMinutesAndFractionalSeconds() {
        #expect(ISO8601Duration(parsing: "PT15M")?.milliseconds == 900_000)
        #expect(ISO8601Duration(parsing: "P1DT12H")?.milliseconds == 129_600_000)
        #expect(ISO8601Duration(parsing: "P2D")?.milliseconds == 172_800_000)
        #expect(ISO8601Duration(parsing: "pt1h30m5.25s")?.milliseconds == 5_405_250)
        #expect(ISO8601Duration(parsing: "PT0S")?.milliseconds == 0)
    }

    @Test func rejectsMalformedDurations() {
        for text in ["", "P", "PT", "15M", "PT15", "P1H", "PT1D", "PT1M1H", "PT1H1H", "PT-1H", "PT1.S", "PT1.5M",
            "P99999999999999999999D", "PT1H ", "P1DT"]
        {
            #expect(ISO8601Duration(parsing: text) == nil, "\(text)")
        }
    }
}

/// `--to-datetime` parsing: the forms kafka-consumer-groups.sh accepts, and rejections.
struct ISO8601DateTimeTests {
    private func utcMs(_ text: String) -> Int64? {
        ISO8601DateTime(parsing: text)?.epochMilliseconds { _ in 0 }
    }

    @Test func parsesTheFormsKafkaAcceptsToEpochMilliseconds() {
        #expect(utcMs("1970-01-01T00:00:00Z") == 0)
        #expect(utcMs("2023-11-14T22:13:20Z") == 1_700_000_000_000)
        #expect(utcMs("2023-11-14T22:13:20.123Z") == 1_700_000_000_123)
        #expect(utcMs("2023-11-14T22:13:20.1Z") == 1_700_000_000_100)
        #expect(utcMs("2023-11-14T22:13:20.123456789Z") == 1_700_000_000_123)
        #expect(utcMs("2023-11-15T00:13:20+02:00") == 1_700_000_000_000)
        #expect(utcMs("2023-11-14T17:13:20-0500") == 1_700_000_000_000)
        #expect(utcMs("2023-11-14T23:13:20+01") == 1_700_000_000_000)
        #expect(utcMs("2023-11-14T22:13Z") == 1_699_999_980_000)
        #expect(utcMs("2023-11-14") == 1_699_920_000_000)
        #expect(utcMs("2000-02-29T00:00:00Z") == 951_782_400_000)
        #expect(utcMs("1969-12-31T23:59:59Z") == -1000)
    }

    @Test func withoutAZoneTheLocalOffsetIsApplied() throws {
        let parsed = try #require(ISO8601DateTime(parsing: "2023-11-14T22:13:20"))
        #expect(parsed.zoneOffsetSeconds == nil)
        #expect(parsed.epochMilliseconds { _ in 3600 } == 1_700_000_000_000 - 3_600_000)
        let zoned = try #require(ISO8601DateTime(parsing: "2023-11-14T22:13:20Z"))
        #expect(zoned.epochMilliseconds { _ in 3600 } == 1_700_000_000_000)
    }

    @Test func rejectsMalformedAndOutOfRangeText() {
        for text in [
            "", "yesterday", "2023-11-14T", "2023-13-01", "2023-02-29", "2023-11-31", "2023-11-14T24:00",
            "2023-11-14T12:60", "2023-11-14T12:00:61", "2023-11-14T12:00:00.", "2023-11-14T12:00:00.1234567890",
            "2023-11-14T12:00:00+2", "2023-11-14T12:00:00Zjunk", "23-11-14", "2023-1-14", "1700000000000",
        ] {
            #expect(ISO8601DateTime(parsing: text) == nil, "\(text)")
        }
    }

    @Test func agreesWithFoundationOnRandomUTCInstants() throws {
        var random = SplitMix64(seed: 0x5EED_DA7E)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        for _ in 0..<500 {
            let seconds = Int64.random(in: -2_000_000_000...8_000_000_000, using: &random)
            let text = formatter.string(from: Date(timeIntervalSince1970: Double(seconds)))
            #expect(utcMs(text) == seconds * 1000, "\(text)")
        }
    }
}

/// How `reset-offsets` computes new offsets (Kafka's ConsumerGroupCommand rules).
struct OffsetResetPlanTests {
    private let tp0 = TopicPartition(topic: "t", partition: 0)
    private let tp1 = TopicPartition(topic: "t", partition: 1)

    private func plan(
        _ spec: OffsetResetSpec, committed: [TopicPartition: Int64] = [:], timestamps: [TopicPartition: Int64] = [:]
    )
        throws(ClientError) -> [Int64]
    {
        try OffsetResetPlan.compute(
            spec: spec, partitions: [tp1, tp0], committed: committed, earliest: [tp0: 10, tp1: 0],
            latest: [tp0: 50, tp1: 5], timestampOffsets: timestamps
        ).map(\.newOffset)
    }

    @Test func targetsAreClampedToTheLog() throws {
        #expect(try plan(.earliest) == [10, 0])
        #expect(try plan(.latest) == [50, 5])
        #expect(try plan(.offset(20)) == [20, 5])
        #expect(try plan(.offset(0)) == [10, 0])
        #expect(try plan(.shiftBy(-100), committed: [tp0: 30, tp1: 3]) == [10, 0])
        #expect(try plan(.shiftBy(2), committed: [tp0: 30, tp1: 3]) == [32, 5])
        #expect(try plan(.shiftBy(Int64.max), committed: [tp0: 30, tp1: 3]) == [50, 5])
    }

    @Test func timestampWithoutANewerRecordMeansTheLogEnd() throws {
        #expect(try plan(.timestamp(1_000), timestamps: [tp0: 12, tp1: -1]) == [12, 5])
        #expect(try plan(.timestamp(1_000)) == [50, 5])
    }

    @Test func entriesAreSortedAndKeepTheCurrentOffset() throws {
        let entries = try OffsetResetPlan.compute(
            spec: .earliest, partitions: [tp1, tp0, tp1], committed: [tp1: 4], earliest: [tp0: 1, tp1: 2],
            latest: [tp0: 9, tp1: 9])
        #expect(
            entries == [
                OffsetResetEntry(topicPartition: tp0, currentOffset: nil, newOffset: 1),
                OffsetResetEntry(topicPartition: tp1, currentOffset: 4, newOffset: 2),
            ])
    }

    @Test func shiftingAPartitionWithoutACommitIsAnError() {
        #expect(throws: ClientError.self) { try plan(.shiftBy(1), committed: [tp0: 30]) }
        do {
            _ = try plan(.shiftBy(1), committed: [tp0: 30])
        } catch {
            #expect(error.description.contains("cannot shift t/1: the group has no committed offset there"))
        }
    }

    @Test func newOffsetsStayWithinTheLogForRandomInputs() throws {
        var random = SplitMix64(seed: 42)
        for _ in 0..<300 {
            let low = Int64.random(in: 0...1_000, using: &random)
            let high = low + Int64.random(in: 0...1_000, using: &random)
            let committed = Int64.random(in: -10...3_000, using: &random)
            let value = Int64.random(in: -3_000...3_000, using: &random)
            let specs: [OffsetResetSpec] = [
                .earliest, .latest, .offset(abs(value)), .shiftBy(value), .timestamp(value),
            ]
            for spec in specs {
                let entries = try OffsetResetPlan.compute(
                    spec: spec, partitions: [tp0], committed: [tp0: committed], earliest: [tp0: low],
                    latest: [tp0: high], timestampOffsets: [tp0: value])
                let new = try #require(entries.first).newOffset
                #expect((low...high).contains(new), "\(spec) low \(low) high \(high) committed \(committed)")
            }
        }
    }
}

/// `runnel groups ...` driven as a process against the in-process broker.
@Suite(.serialized) struct GroupsCommandTests {
    @Test func listDescribeResetAndDeleteAGroupWithOnlyCommittedOffsets() async throws {
        try await TestBroker.with { broker in
            let server = ["--bootstrap-server", broker.bootstrap]
            #expect(try await CLI.run(["topics", "create", "ev", "--partitions", "2"] + server).status == 0)
            let input = broker.directory.path + "/lines.txt"
            try Data((0..<10).map { "v\($0)\n" }.joined().utf8).write(to: URL(fileURLWithPath: input))
            #expect(try await CLI.run(["produce", "ev", "--partition", "1"] + server, stdinPath: input).status == 0)

            let admin = try await KafkaAdmin.connect(to: broker.address)
            try await admin.commitOffsets(
                group: "billing",
                offsets: [TopicPartition(topic: "ev", partition: 0): 0, TopicPartition(topic: "ev", partition: 1): 4])
            await admin.close()

            let list = try await CLI.run(["groups", "list"] + server)
            #expect(list.stdoutText == "GROUP    STATE  PROTOCOL-TYPE\nbilling  Empty  -\n", "\(list.stderr)")

            let describe = try await CLI.run(["groups", "describe", "billing"] + server)
            #expect(describe.status == 0, "\(describe.stderr)")
            #expect(describe.stdoutText.contains("Consumer group 'billing' has no active members."))
            let rows = describe.stdoutText.split(separator: "\n").filter { $0.hasPrefix("ev ") }
                .map { $0.split(separator: " ").map(String.init) }
            #expect(rows == [["ev", "0", "0", "0", "0", "-"], ["ev", "1", "4", "10", "6", "-"]])

            let dry = try await CLI.run(
                ["groups", "reset-offsets", "--group", "billing", "--all-topics", "--shift-by", "-2"] + server)
            #expect(dry.status == 0, "\(dry.stderr)")
            #expect(dry.stderr.contains("dry run: nothing was committed; add --execute"))
            let planned = dry.stdoutText.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            #expect(planned.last == ["billing", "ev", "1", "4", "2"])

            // --by-duration: every record is newer than an hour ago, so the plan is the log start (0).
            let byDuration = try await CLI.run(
                ["groups", "reset-offsets", "--group", "billing", "--topic", "ev:1", "--by-duration", "PT1H"] + server)
            #expect(byDuration.status == 0, "\(byDuration.stderr)")
            let durationPlan = byDuration.stdoutText.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            #expect(durationPlan.last == ["billing", "ev", "1", "4", "0"], "\(byDuration.stdoutText)")

            let executed = try await CLI.run(
                ["groups", "reset-offsets", "--group", "billing", "--topic", "ev:1", "--to-offset", "7", "--execute"]
                    + server)
            #expect(executed.status == 0, "\(executed.stderr)")
            let check = try await KafkaAdmin.connect(to: broker.address)
            let offsets = try await check.committedOffsets(group: "billing")
            await check.close()
            #expect(
                offsets == [TopicPartition(topic: "ev", partition: 0): 0, TopicPartition(topic: "ev", partition: 1): 7])

            let delete = try await CLI.run(["groups", "delete", "billing", "missing"] + server)
            #expect(delete.status == 1)
            #expect(delete.stdoutText == "deleted consumer group billing\n")
            #expect(delete.stderr.contains("cannot delete consumer group missing: GROUP_ID_NOT_FOUND (69)"))
            let after = try await CLI.run(["groups", "list", "--json"] + server)
            let remaining = try JSONSerialization.jsonObject(with: after.stdout) as? [Any]
            #expect(remaining?.isEmpty == true, "\(after.stdoutText)")
        }
    }

    @Test func badInvocationsNameTheProblem() async throws {
        let cases: [([String], String)] = [
            (
                ["groups", "reset-offsets", "--group", "g", "--to-earliest"],
                "--topic T[:P,P...] (repeatable) or --all-topics"
            ),
            (["groups", "reset-offsets", "--group", "g", "--all-topics"], "give exactly one of --to-earliest"),
            (
                ["groups", "reset-offsets", "--group", "g", "--all-topics", "--to-latest", "--to-earliest"],
                "exactly one"
            ),
            (["groups", "reset-offsets", "--group", "g", "--topic", "t:x", "--to-latest"], "TOPIC:P,P,..."),
            (
                ["groups", "reset-offsets", "--group", "g", "--all-topics", "--to-datetime", "soon"],
                "--to-datetime expects ISO 8601"
            ),
            (
                ["groups", "reset-offsets", "--group", "g", "--all-topics", "--by-duration", "1h"],
                "--by-duration expects an ISO 8601 duration"
            ),
            (
                ["groups", "reset-offsets", "--group", "g", "--all-topics", "--to-latest", "--dry-run", "--execute"],
                "either --dry-run or --execute"
            ),
            (["groups", "describe"], "Missing expected argument '<groups> ...'"),
        ]
        for (arguments, message) in cases {
            let result = try await CLI.run(arguments)
            #expect(result.status != 0, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        let unreachable = try await CLI.run(
            ["groups", "list"], environment: ["RUNNEL_BOOTSTRAP_SERVER": "127.0.0.1:1"])
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.contains("broker not reachable at 127.0.0.1:1"))

        for command in [
            ["groups"], ["groups", "list"], ["groups", "describe"], ["groups", "reset-offsets"], ["groups", "delete"],
        ] {
            let help = try await CLI.run(command + ["--help"]).stdoutText
            #expect(help.contains("EXAMPLES:"), "\(command) --help")
        }
        let resetHelp = try await CLI.run(["groups", "reset-offsets", "--help"]).stdoutText
        #expect(resetHelp.contains("Nothing is committed unless --execute is given"))
        #expect(resetHelp.contains("RUNNEL_BOOTSTRAP_SERVER"))
    }
}
