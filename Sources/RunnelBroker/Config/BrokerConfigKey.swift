/// One broker configuration key Runnel knows, by its Kafka name, with its type and default.
///
/// The table `BrokerConfigKey.all` is the single list of accepted keys: parsing, validation, unknown-key
/// reporting and DescribeConfigs (broker resource) all read it.
public struct BrokerConfigKey: Sendable, Hashable {
    /// The value type, as Kafka's `ConfigDef.Type` (DescribeConfigs v3+ reports it).
    public enum ValueType: Int8, Sendable, Hashable {
        case boolean = 1, string = 2, int = 3, short = 4, long = 5, double = 6, list = 7, className = 8, password = 9
    }

    /// Kafka's key name (`log.retention.hours`).
    public let name: String
    public let type: ValueType
    /// The default as Kafka text, or nil when the key is unset by default (`log.retention.minutes`).
    public let defaultValue: String?
    /// The topic-level key this broker key is the default for (`retention.ms`), if any.
    public let topicSynonym: String?
    /// Whether Runnel acts on the key (false: accepted and reported, but it changes nothing here).
    public let isUsed: Bool

    init(_ name: String, _ type: ValueType, _ defaultValue: String?, topic: String? = nil, used: Bool = true) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.topicSynonym = topic
        self.isUsed = used
    }

    /// Checks that `value` parses as this key's type.
    /// - Throws: `BrokerConfigurationError.invalidValue`.
    func validate(_ value: String) throws(BrokerConfigurationError) {
        let trimmed = value.trimmingBlanks
        switch type {
        case .boolean:
            guard ["true", "false"].contains(trimmed.lowercased()) else {
                throw .invalidValue(key: name, value: value, reason: "expected true or false")
            }
        case .int:
            guard Int32(trimmed) != nil else {
                throw .invalidValue(key: name, value: value, reason: "expected a 32-bit integer")
            }
        case .short:
            guard Int16(trimmed) != nil else {
                throw .invalidValue(key: name, value: value, reason: "expected a 16-bit integer")
            }
        case .long:
            guard Int64(trimmed) != nil else {
                throw .invalidValue(key: name, value: value, reason: "expected a 64-bit integer")
            }
        case .double:
            guard Double(trimmed) != nil else {
                throw .invalidValue(key: name, value: value, reason: "expected a number")
            }
        case .string, .list, .className, .password: break
        }
    }

    /// Every key Runnel accepts, by name.
    public static let byName: [String: BrokerConfigKey] = Dictionary(
        all.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })

    /// Every key Runnel accepts. Defaults are Kafka's (KAFKA-FORMATS §11) except `listeners`, `log.dirs`.
    public static let all: [BrokerConfigKey] = [
        // Node and network.
        .init("node.id", .int, "1"),
        .init("broker.id", .int, "-1"),
        .init("listeners", .list, "PLAINTEXT://127.0.0.1:9092"),
        .init("advertised.listeners", .list, nil),
        .init("listener.security.protocol.map", .list,
            "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL"),
        .init("inter.broker.listener.name", .string, nil, used: false),
        .init("controller.listener.names", .list, nil),
        .init("process.roles", .list, nil, used: false),
        .init("controller.quorum.voters", .list, nil, used: false),
        .init("controller.quorum.bootstrap.servers", .list, nil, used: false),
        .init("cluster.id", .string, nil),
        .init("num.network.threads", .int, "3", used: false),
        .init("num.io.threads", .int, "8", used: false),
        .init("socket.send.buffer.bytes", .int, "102400", used: false),
        .init("socket.receive.buffer.bytes", .int, "102400", used: false),
        .init("socket.request.max.bytes", .int, "104857600"),
        .init("connections.max.idle.ms", .long, "600000"),
        .init("queued.max.requests", .int, "500", used: false),
        .init("fetch.max.bytes", .int, "57671680"),
        // The Prometheus/health HTTP endpoint (GET /metrics, GET /health): `host:port` (`[::1]:9644` for IPv6,
        // `:9644` for all interfaces, port 0 = a free port, announced as `runnel: metrics on http://HOST:PORT/metrics`);
        // an empty value or `none` disables it. A bind failure stops start-up when the key is set explicitly; with the
        // default value it only logs a warning (several brokers, e.g. tests, may share the machine).
        .init("metrics.listener", .string, "127.0.0.1:9644"),
        // Topics.
        .init("num.partitions", .int, "1"),
        .init("default.replication.factor", .int, "1"),
        .init("min.insync.replicas", .int, "1", topic: "min.insync.replicas", used: false),
        .init("auto.create.topics.enable", .boolean, "true"),
        .init("delete.topic.enable", .boolean, "true"),
        .init("message.max.bytes", .int, "1048588", topic: "max.message.bytes"),
        .init("compression.type", .string, "producer", topic: "compression.type"),
        // Log storage.
        .init("log.dirs", .list, nil),
        .init("log.dir", .string, "./data/runnel"),
        .init("log.segment.bytes", .int, "1073741824", topic: "segment.bytes"),
        .init("log.roll.ms", .long, nil, topic: "segment.ms"),
        .init("log.roll.hours", .int, "168", topic: "segment.ms"),
        .init("log.roll.jitter.ms", .long, nil, used: false),
        .init("log.roll.jitter.hours", .int, "0", used: false),
        .init("log.index.size.max.bytes", .int, "10485760", topic: "segment.index.bytes"),
        .init("log.index.interval.bytes", .int, "4096", topic: "index.interval.bytes"),
        .init("log.retention.ms", .long, nil, topic: "retention.ms"),
        .init("log.retention.minutes", .int, nil, topic: "retention.ms"),
        .init("log.retention.hours", .int, "168", topic: "retention.ms"),
        .init("log.retention.bytes", .long, "-1", topic: "retention.bytes"),
        .init("log.retention.check.interval.ms", .long, "300000"),
        .init("log.flush.interval.messages", .long, "9223372036854775807", topic: "flush.messages"),
        .init("log.flush.interval.ms", .long, nil, topic: "flush.ms"),
        .init("log.flush.scheduler.interval.ms", .long, "9223372036854775807", used: false),
        .init("log.flush.offset.checkpoint.interval.ms", .int, "60000"),
        .init("log.flush.start.offset.checkpoint.interval.ms", .int, "60000", used: false),
        .init("log.cleanup.policy", .list, "delete", topic: "cleanup.policy"),
        .init("log.message.timestamp.type", .string, "CreateTime", topic: "message.timestamp.type"),
        .init(
            "log.message.timestamp.before.max.ms", .long, "9223372036854775807",
            topic: "message.timestamp.before.max.ms"),
        .init(
            "log.message.timestamp.after.max.ms", .long, "9223372036854775807", topic: "message.timestamp.after.max.ms"),
        .init("log.preallocate", .boolean, "false", topic: "preallocate"),
        .init("log.segment.delete.delay.ms", .long, "60000", topic: "file.delete.delay.ms"),
        .init("num.recovery.threads.per.data.dir", .int, "1", used: false),
        .init("log.cache.max.bytes", .long, "268435456"),
        // Cleaner (compaction).
        .init("log.cleaner.enable", .boolean, "true"),
        .init("log.cleaner.threads", .int, "1"),
        .init("log.cleaner.dedupe.buffer.size", .long, "134217728"),
        .init("log.cleaner.io.buffer.size", .int, "524288"),
        .init("log.cleaner.io.buffer.load.factor", .double, "0.9"),
        .init("log.cleaner.io.max.bytes.per.second", .double, "1.7976931348623157E308"),
        .init("log.cleaner.min.cleanable.ratio", .double, "0.5", topic: "min.cleanable.dirty.ratio"),
        .init("log.cleaner.delete.retention.ms", .long, "86400000", topic: "delete.retention.ms"),
        .init("log.cleaner.backoff.ms", .long, "15000"),
        .init("log.cleaner.min.compaction.lag.ms", .long, "0", topic: "min.compaction.lag.ms"),
        .init("log.cleaner.max.compaction.lag.ms", .long, "9223372036854775807", topic: "max.compaction.lag.ms"),
        // Groups and offsets.
        .init("offsets.topic.num.partitions", .int, "50"),
        .init("offsets.topic.replication.factor", .short, "3", used: false),
        .init("offsets.topic.segment.bytes", .int, "104857600"),
        .init("offsets.retention.minutes", .int, "10080"),
        .init("offsets.retention.check.interval.ms", .long, "600000"),
        .init("offset.metadata.max.bytes", .int, "4096"),
        .init("offsets.commit.timeout.ms", .int, "5000", used: false),
        .init("group.min.session.timeout.ms", .int, "6000"),
        .init("group.max.session.timeout.ms", .int, "1800000"),
        .init("group.initial.rebalance.delay.ms", .int, "3000"),
        .init("group.max.size", .int, "2147483647"),
        // Transactions and producer ids (stored; transactions are not implemented).
        .init("transaction.state.log.num.partitions", .int, "50", used: false),
        .init("transaction.state.log.replication.factor", .short, "3", used: false),
        .init("transaction.state.log.min.isr", .int, "2", used: false),
        .init("transaction.max.timeout.ms", .int, "900000", used: false),
        .init("transactional.id.expiration.ms", .int, "604800000", used: false),
        .init("producer.id.expiration.ms", .int, "86400000"),
        .init("producer.id.expiration.check.interval.ms", .int, "600000", used: false),
        .init("request.timeout.ms", .int, "30000", used: false),
        .init("replica.high.watermark.checkpoint.interval.ms", .long, "5000", used: false),
    ]
}

extension StringProtocol {
    /// The string without leading and trailing spaces and tabs.
    var trimmingBlanks: String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars = scalars.dropFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
