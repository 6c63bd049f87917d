import ArgumentParser
import Foundation
import RunnelClient

extension Runnel {
    /// `runnel groups ...`: consumer-group administration, modelled on Kafka's `kafka-consumer-groups.sh`.
    struct Groups: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List, describe, reset the offsets of, and delete consumer groups.",
            discussion: """
                Works with any Kafka client's groups (kafka-python, librdkafka, Java, `runnel
                consume --group`), like Kafka's kafka-consumer-groups.sh.

                EXAMPLES:
                  runnel groups list
                  runnel groups describe billing
                  runnel groups describe billing audit --json
                  runnel groups reset-offsets --group billing --topic events --to-earliest
                  runnel groups reset-offsets --group billing --topic events \\
                      --to-earliest --execute
                  runnel groups reset-offsets --group billing --topic events:0,1 \\
                      --shift-by -100 --execute
                  runnel groups reset-offsets --group billing --all-topics \\
                      --to-datetime 2026-01-31T12:00:00Z --execute
                  runnel groups delete billing
                """,
            subcommands: [List.self, Describe.self, ResetOffsets.self, Delete.self])
    }
}

extension Runnel.Groups {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List consumer groups with their state and protocol type.",
            discussion: """
                One row per group: GROUP, STATE (Empty, Stable, PreparingRebalance,
                CompletingRebalance) and PROTOCOL-TYPE ("consumer" for consumer groups,
                "-" for a group that only has committed offsets).
                --json prints an array of {"group","state","protocolType"}.

                EXAMPLES:
                  runnel groups list
                  runnel groups list --json
                """)

        @OptionGroup var connection: ConnectionOptions
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() async throws {
            let address = try connection.address()
            try await reportingClientErrors {
                try await withAdmin(address) { admin in
                    let groups = try await admin.listGroups()
                    if json {
                        try GroupsOutput.printJSON(
                            groups.map {
                                GroupListingJSON(group: $0.groupId, state: $0.state, protocolType: $0.protocolType)
                            })
                        return
                    }
                    guard !groups.isEmpty else {
                        Terminal.standardError("no consumer groups\n")
                        return
                    }
                    GroupsOutput.printTable(
                        [["GROUP", "STATE", "PROTOCOL-TYPE"]]
                            + groups.map {
                                [$0.groupId, GroupsOutput.dash($0.state), GroupsOutput.dash($0.protocolType)]
                            })
                }
            }
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a group's state, members, and per-partition offsets and lag.",
            discussion: """
                First the group: state, protocol type, assignor and member count; then each
                member (member id, client id, host, assigned partitions); then one row per
                partition the group has a committed offset for or a member owns:
                TOPIC, PARTITION, CURRENT-OFFSET (the committed offset, "-" if none),
                LOG-END-OFFSET, LAG (log end - committed) and MEMBER-ID (the owner, "-" if
                none). A group without members (Empty) still shows its offsets and lag.
                A group that does not exist is an error (exit status 1).

                EXAMPLES:
                  runnel groups describe billing
                  runnel groups describe billing audit
                  runnel groups describe billing --json
                """)

        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Group ids.") var groups: [String]
        @Flag(name: .long, help: "Print a JSON array with one object per group.") var json = false

        func validate() throws {
            guard !groups.isEmpty else { throw ValidationError("name at least one group (see `runnel groups list`)") }
        }

        func run() async throws {
            let address = try connection.address()
            let missing = try await reportingClientErrors {
                try await withAdmin(address) { admin in
                    var missing: [String] = []
                    var described: [GroupDescriptionJSON] = []
                    var printed = 0
                    for group in groups {
                        let description = try await admin.describeGroup(group)
                        let lag = try await admin.groupLag(description)
                        if description.state == "Dead" && lag.isEmpty {
                            missing.append(group)
                            continue
                        }
                        if json {
                            described.append(GroupDescriptionJSON(description, lag: lag))
                        } else {
                            if printed > 0 { print("") }
                            printDescription(description, lag: lag)
                            printed += 1
                        }
                    }
                    if json { try GroupsOutput.printJSON(described) }
                    return missing
                }
            }
            for group in missing {
                Terminal.error("consumer group \(group) does not exist (see `runnel groups list`)")
            }
            if !missing.isEmpty { throw ExitCode.failure }
        }

        private func printDescription(_ group: ConsumerGroupDescription, lag: [ConsumerGroupPartitionLag]) {
            print(
                "GROUP: \(group.groupId)  STATE: \(group.state)  PROTOCOL-TYPE: \(GroupsOutput.dash(group.protocolType))"
                    + "  ASSIGNOR: \(GroupsOutput.dash(group.protocolName))  MEMBERS: \(group.members.count)")
            if group.members.isEmpty {
                print("Consumer group '\(group.groupId)' has no active members.")
            } else {
                print("")
                GroupsOutput.printTable(
                    [["MEMBER-ID", "CLIENT-ID", "HOST", "PARTITIONS"]]
                        + group.members.map {
                            [
                                $0.memberId, GroupsOutput.dash($0.clientId), GroupsOutput.dash($0.clientHost),
                                GroupsOutput.formatAssignment($0.assignment),
                            ]
                        })
            }
            print("")
            guard !lag.isEmpty else {
                print("Consumer group '\(group.groupId)' has no committed offsets and no assigned partitions.")
                return
            }
            GroupsOutput.printTable(
                [["TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "MEMBER-ID"]]
                    + lag.map {
                        [
                            $0.topicPartition.topic, "\($0.topicPartition.partition)",
                            $0.committedOffset.map(String.init) ?? "-", "\($0.logEndOffset)",
                            $0.lag.map(String.init) ?? "-", $0.owner ?? "-",
                        ]
                    })
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete consumer groups and their committed offsets.",
            discussion: """
                Only groups without active members (state Empty) can be deleted, as in
                Kafka: stop the group's consumers first. Each group is reported on its own
                line; the exit status is 1 if any could not be deleted.

                EXAMPLES:
                  runnel groups delete billing
                  runnel groups delete billing audit
                """)

        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Group ids.") var groups: [String]

        func validate() throws {
            guard !groups.isEmpty else { throw ValidationError("name at least one group (see `runnel groups list`)") }
        }

        func run() async throws {
            let address = try connection.address()
            let failed = try await reportingClientErrors {
                try await withAdmin(address) { admin in
                    var failed = 0
                    for (group, code) in try await admin.deleteGroups(groups) {
                        switch code {
                        case .none:
                            print("deleted consumer group \(group)")
                        case .nonEmptyGroup:
                            let members =
                                (try? await admin.describeGroup(group).members.count).map {
                                    " (\($0) active member(s))"
                                } ?? ""
                            Terminal.error(
                                "cannot delete consumer group \(group): NON_EMPTY_GROUP (68): The group is not empty\(members); "
                                    + "stop its consumers first (see `runnel groups describe \(group)`)")
                            failed += 1
                        case .groupIdNotFound:
                            Terminal.error(
                                "cannot delete consumer group \(group): GROUP_ID_NOT_FOUND (69): it does not exist (see `runnel groups list`)"
                            )
                            failed += 1
                        default:
                            Terminal.error("cannot delete consumer group \(group): \(code)")
                            failed += 1
                        }
                    }
                    return failed
                }
            }
            if failed > 0 { throw ExitCode.failure }
        }
    }
}

// MARK: - Output helpers

/// Table and JSON output of the `runnel groups` commands.
enum GroupsOutput {
    /// "-" for an empty value in a table cell.
    static func dash(_ text: String) -> String { text.isEmpty ? "-" : text }

    /// `topic:0,1 other:2` from a sorted assignment; "-" when empty.
    static func formatAssignment(_ partitions: [TopicPartition]) -> String {
        guard !partitions.isEmpty else { return "-" }
        var parts: [String] = []
        var index = partitions.startIndex
        while index < partitions.endIndex {
            let topic = partitions[index].topic
            var numbers: [String] = []
            while index < partitions.endIndex, partitions[index].topic == topic {
                numbers.append("\(partitions[index].partition)")
                index += 1
            }
            parts.append("\(topic):\(numbers.joined(separator: ","))")
        }
        return parts.joined(separator: " ")
    }

    /// Prints rows as left-aligned columns separated by two spaces (the first row is the header).
    static func printTable(_ rows: [[String]]) {
        guard let header = rows.first else { return }
        let widths = header.indices.map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        for row in rows {
            let cells = row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }
            print(cells.joined(separator: "  "))
        }
    }

    /// Prints a value as pretty JSON with sorted keys.
    static func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

/// `runnel groups list --json` rows.
struct GroupListingJSON: Encodable {
    var group: String
    var state: String
    var protocolType: String
}

/// `runnel groups describe --json` objects.
struct GroupDescriptionJSON: Encodable {
    struct Member: Encodable {
        var memberId: String
        var groupInstanceId: String?
        var clientId: String
        var host: String
        var assignment: [Partition]
    }

    struct Partition: Encodable {
        var topic: String
        var partition: Int32
    }

    struct Offset: Encodable {
        var topic: String
        var partition: Int32
        var currentOffset: Int64?
        var logEndOffset: Int64
        var lag: Int64?
        var memberId: String?

        /// Writes absent values as `null` (the synthesized encoder would leave the keys out).
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(topic, forKey: .topic)
            try container.encode(partition, forKey: .partition)
            try container.encode(currentOffset, forKey: .currentOffset)
            try container.encode(logEndOffset, forKey: .logEndOffset)
            try container.encode(lag, forKey: .lag)
            try container.encode(memberId, forKey: .memberId)
        }

        private enum CodingKeys: String, CodingKey {
            case topic, partition, currentOffset, logEndOffset, lag, memberId
        }
    }

    var group: String
    var state: String
    var protocolType: String
    var assignor: String
    var members: [Member]
    var offsets: [Offset]

    init(_ description: ConsumerGroupDescription, lag: [ConsumerGroupPartitionLag]) {
        group = description.groupId
        state = description.state
        protocolType = description.protocolType
        assignor = description.protocolName
        members = description.members.map { member in
            Member(
                memberId: member.memberId, groupInstanceId: member.groupInstanceId, clientId: member.clientId,
                host: member.clientHost,
                assignment: member.assignment.map { Partition(topic: $0.topic, partition: $0.partition) })
        }
        offsets = lag.map {
            Offset(
                topic: $0.topicPartition.topic, partition: $0.topicPartition.partition,
                currentOffset: $0.committedOffset,
                logEndOffset: $0.logEndOffset, lag: $0.lag, memberId: $0.owner)
        }
    }
}
