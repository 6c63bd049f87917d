import ArgumentParser
import RunnelClient

extension Runnel {
    /// `runnel topics ...`: topic administration.
    struct Topics: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create, list, describe, alter and delete topics.",
            discussion: """
                EXAMPLES:
                  runnel topics create events --partitions 3
                  runnel topics create logs --config cleanup.policy=compact --config retention.ms=86400000
                  runnel topics list
                  runnel topics describe events
                  runnel topics alter events --partitions 6 --config retention.ms=3600000
                  runnel topics alter events --delete-config retention.ms
                  runnel topics delete events
                """,
            subcommands: [Create.self, List.self, Describe.self, Alter.self, Delete.self])
    }
}

extension Runnel.Topics {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a topic.",
            discussion: """
                EXAMPLES:
                  runnel topics create events
                  runnel topics create events --partitions 6
                  runnel topics create compacted --config cleanup.policy=compact
                  runnel topics create events --if-not-exists
                """)

        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Topic name.") var name: String
        @Option(
            name: .long, help: ArgumentHelp("Partition count (default: the broker's num.partitions).", valueName: "n"))
        var partitions: Int32?
        @Option(name: .long, help: ArgumentHelp("Replication factor (a single node supports 1).", valueName: "n"))
        var replicationFactor: Int16?
        @Option(name: .long, help: ArgumentHelp("Topic config (repeatable).", valueName: "key=value"))
        var config: [String] = []
        @Flag(name: .long, help: "Succeed if the topic already exists.") var ifNotExists = false

        func validate() throws {
            if let partitions, partitions <= 0 { throw ValidationError("--partitions must be > 0") }
            if let replicationFactor, replicationFactor <= 0 {
                throw ValidationError("--replication-factor must be > 0")
            }
            _ = try parseKeyValues(config, option: "--config")
        }

        func run() async throws {
            let configs = Dictionary(try parseKeyValues(config, option: "--config"), uniquingKeysWith: { $1 })
            let address = try connection.address()
            try await reportingClientErrors {
                try await withAdmin(address) { admin in
                    do {
                        try await admin.createTopic(
                            name, partitions: partitions ?? -1, replicationFactor: replicationFactor ?? -1,
                            configs: configs)
                    } catch let ClientError.broker(_, code, _) where code == .topicAlreadyExists && ifNotExists {
                        print("topic \(name) already exists")
                        return
                    }
                    let metadata = try? await admin.connection.topicMetadata(name)
                    print("created topic \(name)" + (metadata.map { " with \($0.partitionCount) partition(s)" } ?? ""))
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List topics.",
            discussion: """
                One topic per line; --long adds partition count and record count.

                EXAMPLES:
                  runnel topics list
                  runnel topics list --long
                """)

        @OptionGroup var connection: ConnectionOptions
        @Flag(name: .long, help: "Show partition and record counts.") var long = false
        @Flag(name: .customLong("internal"), help: "Include internal topics.") var includeInternal = false

        func run() async throws {
            let address = try connection.address()
            try await reportingClientErrors {
                try await withAdmin(address) { admin in
                    for topic in try await admin.listTopics(includeInternal: includeInternal) {
                        guard long else {
                            print(topic.name)
                            continue
                        }
                        let offsets = try await admin.partitionOffsets(
                            topic.name, partitions: topic.partitions.map(\.index))
                        let records = offsets.reduce(Int64(0)) { $0 + $1.recordCount }
                        print("\(topic.name)\tpartitions=\(topic.partitionCount)\trecords=\(records)")
                    }
                }
            }
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a topic's partitions, offsets and configs.",
            discussion: """
                Per partition: leader, replicas, earliest and latest offset, record count
                and size on disk (when the broker reports sizes through DescribeLogDirs).
                Then the topic's configs (non-defaults first; --all-configs for every one).

                EXAMPLES:
                  runnel topics describe events
                  runnel topics describe events --all-configs
                """)

        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Topic name.") var name: String
        @Flag(name: .long, help: "List default configs too.") var allConfigs = false

        func run() async throws {
            let address = try connection.address()
            try await reportingClientErrors {
                try await withAdmin(address) { admin in
                    let description = try await admin.describeTopic(name)
                    let metadata = description.metadata
                    print(
                        "Topic: \(metadata.name)\tTopicId: \(metadata.topicId)\tPartitions: \(metadata.partitionCount)")
                    let offsets = Dictionary(description.offsets.map { ($0.partition, $0) }, uniquingKeysWith: { $1 })
                    for partition in metadata.partitions {
                        var line = "  Partition: \(partition.index)\tLeader: \(partition.leaderId)"
                        line += "\tReplicas: \(partition.replicas.map(String.init).joined(separator: ","))"
                        line += "\tIsr: \(partition.isr.map(String.init).joined(separator: ","))"
                        if let offset = offsets[partition.index] {
                            line +=
                                "\tEarliest: \(offset.earliest)\tLatest: \(offset.latest)\tRecords: \(offset.recordCount)"
                            if let size = offset.sizeBytes { line += "\tSize: \(size)" }
                        }
                        print(line)
                    }
                    let shown = description.configs.filter { allConfigs || !$0.isDefault }
                    print("Configs:" + (shown.isEmpty ? " (all defaults)" : ""))
                    for entry in shown {
                        let value = entry.isSensitive ? "(sensitive)" : (entry.value ?? "null")
                        print("  \(entry.name)=\(value)" + (entry.isDefault ? "\t(default)" : ""))
                    }
                }
            }
        }
    }

    struct Alter: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a topic's configs or grow its partition count.",
            discussion: """
                EXAMPLES:
                  runnel topics alter events --config retention.ms=3600000
                  runnel topics alter events --delete-config retention.ms
                  runnel topics alter events --partitions 6
                """)

        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Topic name.") var name: String
        @Option(name: .long, help: ArgumentHelp("Set a config (repeatable).", valueName: "key=value"))
        var config: [String] = []
        @Option(name: .long, help: ArgumentHelp("Revert a config to its default (repeatable).", valueName: "key"))
        var deleteConfig: [String] = []
        @Option(name: .long, help: ArgumentHelp("New total partition count (can only grow).", valueName: "n"))
        var partitions: Int32?

        func validate() throws {
            _ = try parseKeyValues(config, option: "--config")
            if config.isEmpty, deleteConfig.isEmpty, partitions == nil {
                throw ValidationError("nothing to change: give --config, --delete-config or --partitions")
            }
            if let partitions, partitions <= 0 { throw ValidationError("--partitions must be > 0") }
        }

        func run() async throws {
            let set = Dictionary(try parseKeyValues(config, option: "--config"), uniquingKeysWith: { $1 })
            let address = try connection.address()
            try await reportingClientErrors {
                try await withAdmin(address) { admin in
                    if let partitions {
                        try await admin.createPartitions(topic: name, totalCount: partitions)
                        print("topic \(name) now has \(partitions) partitions")
                    }
                    if !set.isEmpty || !deleteConfig.isEmpty {
                        try await admin.alterConfigs(topic: name, set: set, delete: deleteConfig)
                        print("updated configs of topic \(name)")
                    }
                }
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete topics and their data.",
            discussion: """
                EXAMPLES:
                  runnel topics delete events
                  runnel topics delete a b c --if-exists
                """)

        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Topic names.") var names: [String]
        @Flag(name: .long, help: "Succeed if a topic does not exist.") var ifExists = false

        func validate() throws {
            guard !names.isEmpty else { throw ValidationError("name at least one topic") }
        }

        func run() async throws {
            let address = try connection.address()
            try await reportingClientErrors {
                try await withAdmin(address) { admin in
                    for name in names {
                        do {
                            try await admin.deleteTopics([name])
                            print("deleted topic \(name)")
                        } catch ClientError.unknownTopic where ifExists {
                            print("topic \(name) does not exist")
                        }
                    }
                }
            }
        }
    }
}
