import ArgumentParser
import Foundation
import RunnelClient

extension Runnel.Groups {
    /// `runnel groups reset-offsets`: Kafka's `kafka-consumer-groups.sh --reset-offsets`.
    struct ResetOffsets: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-offsets",
            abstract: "Move an inactive group's committed offsets (dry run unless --execute).",
            discussion: """
                Computes a plan (TOPIC, PARTITION, CURRENT-OFFSET, NEW-OFFSET) and prints it.
                Nothing is committed unless --execute is given: like Kafka, the default is a
                dry run (--dry-run says so explicitly).

                Scope: --topic T (every partition of T) or --topic T:0,2 (those partitions),
                repeatable; or --all-topics (every partition the group has committed
                offsets for).

                Target (exactly one):
                  --to-earliest       the partition's log start offset
                  --to-latest         the partition's log end offset
                  --to-offset N       offset N
                  --shift-by N        the committed offset + N (N may be negative); every
                                      partition needs a committed offset
                  --to-datetime T     the first offset whose timestamp is at or after T
                                      (ISO 8601: YYYY-MM-DDTHH:mm:SS.sss, zone Z or +HH:MM
                                      optional, local time without one); the log end
                                      offset if no record is that new
                  --by-duration D     like --to-datetime, for the time D ago (ISO 8601
                                      duration PnDTnHnMnS: PT30M, P1DT12H)
                New offsets are clamped to [log start, log end], as Kafka does.

                As in Kafka, only a group without active members (state Empty, or a group
                that does not exist yet) can be reset: stop its consumers first.

                EXAMPLES:
                  runnel groups reset-offsets --group billing --topic events --to-earliest
                  runnel groups reset-offsets --group billing --topic events \\
                      --to-earliest --execute
                  runnel groups reset-offsets --group billing --topic events:0,1 \\
                      --to-offset 500 --execute
                  runnel groups reset-offsets --group billing --all-topics \\
                      --shift-by -100 --execute
                  runnel groups reset-offsets --group billing --topic events \\
                      --to-datetime 2026-01-31T12:00:00Z
                  runnel groups reset-offsets --group billing --all-topics \\
                      --by-duration PT1H --execute
                  runnel groups reset-offsets --group billing --all-topics \\
                      --to-latest --execute --json
                """)

        @OptionGroup var connection: ConnectionOptions

        @Option(name: .long, help: ArgumentHelp("The group whose offsets to reset.", valueName: "group"))
        var group: String

        @Option(
            name: .long,
            help: ArgumentHelp(
                "A topic, or topic:p,p,... for some partitions (repeatable).", valueName: "topic[:p,...]"))
        var topic: [String] = []

        @Flag(name: .long, help: "Every partition the group has committed offsets for.")
        var allTopics = false

        @Flag(name: .long, help: "Reset to the log start offset.") var toEarliest = false
        @Flag(name: .long, help: "Reset to the log end offset.") var toLatest = false

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Reset to this offset.", valueName: "n"))
        var toOffset: Int64?

        @Option(
            name: .long, parsing: .unconditional,
            help: ArgumentHelp("Move the committed offsets by N (negative: back).", valueName: "n"))
        var shiftBy: Int64?

        @Option(
            name: .long,
            help: ArgumentHelp("Reset to the first record at or after this ISO 8601 time.", valueName: "datetime"))
        var toDatetime: String?

        @Option(
            name: .long,
            help: ArgumentHelp(
                "Reset to the first record at or after this long ago (ISO 8601 duration, e.g. PT30M, P1DT12H).",
                valueName: "duration"))
        var byDuration: String?

        @Flag(name: .long, help: "Only print the plan (the default).") var dryRun = false
        @Flag(name: .long, help: "Commit the plan.") var execute = false
        @Flag(name: .long, help: "Print the plan as JSON.") var json = false

        func validate() throws {
            guard !group.isEmpty else { throw ValidationError("--group must not be empty") }
            if allTopics == !topic.isEmpty {
                throw ValidationError("name the partitions to reset: --topic T[:P,P...] (repeatable) or --all-topics")
            }
            _ = try parsedTopics()
            let targets = [
                toEarliest, toLatest, toOffset != nil, shiftBy != nil, toDatetime != nil, byDuration != nil,
            ].filter { $0 }
            guard targets.count == 1 else {
                throw ValidationError(
                    "give exactly one of --to-earliest, --to-latest, --to-offset N, --shift-by N, --to-datetime T, "
                        + "--by-duration D")
            }
            if let toOffset, toOffset < 0 { throw ValidationError("--to-offset must be >= 0") }
            _ = try spec()
            if dryRun && execute { throw ValidationError("use either --dry-run or --execute") }
            _ = try connection.address()
        }

        /// `--topic` values as (topic, partitions or nil for all).
        private func parsedTopics() throws -> [(String, [Int32]?)] {
            try topic.map { text in
                guard let colon = text.firstIndex(of: ":") else {
                    guard !text.isEmpty else { throw ValidationError("--topic must not be empty") }
                    return (text, nil)
                }
                let name = String(text[..<colon])
                let list = text[text.index(after: colon)...].split(separator: ",", omittingEmptySubsequences: false)
                let partitions = list.map { Int32($0.trimmingCharacters(in: .whitespaces)) }
                guard !name.isEmpty, !list.isEmpty, partitions.allSatisfy({ ($0 ?? -1) >= 0 }) else {
                    throw ValidationError(
                        "--topic expects TOPIC or TOPIC:P,P,... with partition numbers, got '\(text)'")
                }
                return (name, partitions.compactMap { $0 })
            }
        }

        private func spec() throws -> OffsetResetSpec {
            if toEarliest { return .earliest }
            if toLatest { return .latest }
            if let toOffset { return .offset(toOffset) }
            if let shiftBy { return .shiftBy(shiftBy) }
            if let toDatetime {
                guard let parsed = ISO8601DateTime(parsing: toDatetime) else {
                    throw ValidationError(
                        "--to-datetime expects ISO 8601 like 2026-01-31T12:00:00.000, 2026-01-31T12:00:00Z or "
                            + "2026-01-31T12:00:00+01:00; got '\(toDatetime)'")
                }
                return .timestamp(
                    parsed.epochMilliseconds { wallClockMs in
                        TimeZone.current.secondsFromGMT(for: Date(timeIntervalSince1970: Double(wallClockMs) / 1000))
                    })
            }
            if let byDuration {
                guard let duration = ISO8601Duration(parsing: byDuration) else {
                    throw ValidationError(
                        "--by-duration expects an ISO 8601 duration PnDTnHnMnS like PT30M or P1DT12H; got '\(byDuration)'")
                }
                return .timestamp(Int64(Date().timeIntervalSince1970 * 1000) - duration.milliseconds)
            }
            throw ValidationError("no reset target given")
        }

        func run() async throws {
            let address = try connection.address()
            let spec = try spec()
            let scope = try parsedTopics()
            try await reportingClientErrors {
                try await withAdmin(address) { admin in
                    let description = try await admin.describeGroup(group)
                    guard description.isInactive else {
                        throw ClientError.invalidArgument(
                            "cannot reset offsets of group \(group): it has \(description.members.count) active "
                                + "member(s) (state \(description.state)); Kafka resets only inactive groups: stop its "
                                + "consumers (see `runnel groups describe \(group)`) and run this again")
                    }
                    let partitions = try await resolve(scope, admin: admin)
                    let plan = try await admin.planOffsetReset(group: group, partitions: partitions, spec: spec)
                    guard !plan.entries.isEmpty else {
                        throw ClientError.invalidArgument(
                            "group \(group) has no committed offsets, so --all-topics selects nothing: name the "
                                + "partitions with --topic")
                    }
                    if execute { try await admin.commitOffsets(group: group, offsets: plan.offsets) }
                    report(plan)
                }
            }
        }

        /// The partitions `--topic` names (nil for --all-topics), checked against the topics' metadata.
        private func resolve(_ scope: [(String, [Int32]?)], admin: KafkaAdmin) async throws -> [TopicPartition]? {
            guard !allTopics else { return nil }
            var result: [TopicPartition] = []
            for (name, chosen) in scope {
                let all = try await admin.connection.topicMetadata(name).partitions.map(\.index)
                for partition in chosen ?? all {
                    guard all.contains(partition) else {
                        throw ClientError.unknownPartition(topic: name, partition: partition, partitionCount: all.count)
                    }
                    result.append(TopicPartition(topic: name, partition: partition))
                }
            }
            return result
        }

        private func report(_ plan: OffsetResetPlan) {
            if json {
                let rows = plan.entries.map {
                    ResetRowJSON(
                        topic: $0.topicPartition.topic, partition: $0.topicPartition.partition,
                        currentOffset: $0.currentOffset, newOffset: $0.newOffset)
                }
                do {
                    try GroupsOutput.printJSON(ResetPlanJSON(group: plan.groupId, executed: execute, partitions: rows))
                } catch {
                    Terminal.error("cannot encode the plan as JSON: \(error)")
                }
            } else {
                GroupsOutput.printTable(
                    [["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET"]]
                        + plan.entries.map {
                            [
                                plan.groupId, $0.topicPartition.topic, "\($0.topicPartition.partition)",
                                $0.currentOffset.map(String.init) ?? "-", "\($0.newOffset)",
                            ]
                        })
            }
            if execute {
                Terminal.standardError(
                    "committed new offsets of \(plan.entries.count) partition(s) for group \(plan.groupId)\n")
            } else {
                Terminal.standardError("dry run: nothing was committed; add --execute to commit these offsets\n")
            }
        }
    }
}

/// `runnel groups reset-offsets --json` output.
struct ResetPlanJSON: Encodable {
    var group: String
    var executed: Bool
    var partitions: [ResetRowJSON]
}

/// One partition of ``ResetPlanJSON``.
struct ResetRowJSON: Encodable {
    var topic: String
    var partition: Int32
    var currentOffset: Int64?
    var newOffset: Int64

    /// Writes a missing current offset as `null`.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(topic, forKey: .topic)
        try container.encode(partition, forKey: .partition)
        try container.encode(currentOffset, forKey: .currentOffset)
        try container.encode(newOffset, forKey: .newOffset)
    }

    private enum CodingKeys: String, CodingKey {
        case topic, partition, currentOffset, newOffset
    }
}
