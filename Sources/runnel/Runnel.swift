import ArgumentParser

/// The `runnel` command: a single-node, Kafka-compatible message broker and its tools.
@main
struct Runnel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runnel",
        abstract: "A single-node, Kafka-compatible, log-structured message broker.",
        discussion: """
            Runnel speaks Apache Kafka's wire protocol and keeps its data in Kafka's
            on-disk layout, so Kafka clients (librdkafka/kcat, kafka-python, aiokafka,
            confluent-kafka, Java) work against it unchanged.

            Start a broker with embedded defaults (127.0.0.1:9092, data in ./data/runnel):
              runnel serve
            """,
        subcommands: [Serve.self, Produce.self, Consume.self, Topics.self, Groups.self, Compact.self, DumpLog.self, Verify.self, Stats.self]
    )
}
