/// The broker's settings, resolved from Kafka-style keys.
///
/// Layers, lowest first: built-in defaults (Kafka's, KAFKA-FORMATS §11, except `listeners` =
/// `PLAINTEXT://127.0.0.1:9092` and `log.dirs` = `./data/runnel`), the properties file, `RUNNEL_*`
/// environment variables (`RUNNEL_LOG_DIRS` → `log.dirs`), then command-line flags and `--override`s.
/// Unknown keys (from the file or overrides) are collected in `unknownKeys`; `strict` turns them into an error.
public struct BrokerConfiguration: Sendable {
    /// Where a value came from (for DescribeConfigs' `config_source` and for logs).
    public enum Source: Sendable, Hashable {
        case file, environment, commandLine
    }

    /// Explicitly set known keys and their values (not defaults).
    public private(set) var explicit: [String: String]
    /// Where each explicit key came from.
    public private(set) var sources: [String: Source]
    /// Keys that were set but Runnel does not know, sorted.
    public private(set) var unknownKeys: [String]

    // MARK: Resolved typed values

    /// The node id (`node.id`, else `broker.id` when >= 0, else 1).
    public let nodeId: Int32
    /// Client-facing listeners to bind (controller listeners are skipped).
    public let listeners: [Listener]
    /// What Metadata advertises per listener name, when set; else the bound address.
    public let advertisedListeners: [Listener]
    /// The data directory (the first of `log.dirs`, else `log.dir`).
    public let logDirectory: String
    public let numPartitions: Int32
    public let defaultReplicationFactor: Int16
    public let autoCreateTopicsEnable: Bool
    public let deleteTopicEnable: Bool
    /// Largest accepted request frame, bytes (`socket.request.max.bytes`).
    public let socketRequestMaxBytes: Int
    /// Broker cap on one Fetch response's record bytes (`fetch.max.bytes`).
    public let fetchMaxBytes: Int
    /// Budget of the broker-wide read cache of record batches, bytes (`log.cache.max.bytes`; ≤ 0 disables it).
    public let logCacheMaxBytes: Int
    public let logRetentionCheckIntervalMs: Int64
    /// A client connection with no bytes read or written for this long is closed (`connections.max.idle.ms`,
    /// Kafka's default 10 minutes); ≤ 0 never closes idle connections.
    public let connectionsMaxIdleMs: Int64
    public let logFlushOffsetCheckpointIntervalMs: Int64
    /// The cluster id reported in Metadata/DescribeCluster (`cluster.id`; else one persisted in meta.properties).
    public let clusterId: String?
    public let producerIdExpirationMs: Int64
    /// Where the metrics HTTP endpoint listens (`metrics.listener`); nil when disabled (empty or `none`).
    public let metricsListener: MetricsListenerAddress?
    /// Whether `metrics.listener` was set explicitly (then a bind failure is fatal; the default only warns).
    public var metricsListenerIsExplicit: Bool { explicit["metrics.listener"] != nil }

    /// Topic-level defaults derived from broker keys (`retention.ms` from `log.retention.hours`, ...), only
    /// for keys set explicitly at the broker; feed them to `LogConfig.apply` over Kafka's defaults.
    public let topicDefaults: [String: String]

    /// Builds a configuration.
    /// - Parameters:
    ///   - propertiesText: the contents of the `--config` file, if any.
    ///   - environment: the process environment; only `RUNNEL_*` names of known keys are used.
    ///   - overrides: command-line settings in order (`--listeners`, `--log-dirs`, `--override k=v`).
    ///   - strict: unknown keys are an error (`--strict-config`).
    /// - Throws: `BrokerConfigurationError`.
    public init(
        propertiesText: String? = nil, environment: [String: String] = [:], overrides: [(String, String)] = [],
        strict: Bool = false
    ) throws(BrokerConfigurationError) {
        var explicit: [String: String] = [:]
        var sources: [String: Source] = [:]
        var unknown = Set<String>()
        func set(_ key: String, _ value: String, _ source: Source) throws(BrokerConfigurationError) {
            guard let definition = BrokerConfigKey.byName[key] else {
                unknown.insert(key)
                return
            }
            try definition.validate(value)
            explicit[key] = value.trimmingBlanks
            sources[key] = source
        }
        if let propertiesText {
            for entry in try PropertiesFile(parsing: propertiesText).entries {
                try set(entry.key, entry.value, .file)
            }
        }
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix("RUNNEL_") {
            let key = name.dropFirst("RUNNEL_".count).lowercased().replacingUnderscoresWithDots
            // Other RUNNEL_* variables (RUNNEL_BIN in the test scripts, ...) are not config keys.
            if BrokerConfigKey.byName[key] != nil { try set(key, value, .environment) }
        }
        for (key, value) in overrides { try set(key, value, .commandLine) }
        let unknownKeys = unknown.sorted()
        if strict, !unknownKeys.isEmpty { throw .unknownKeys(unknownKeys) }
        self.explicit = explicit
        self.sources = sources
        self.unknownKeys = unknownKeys

        let lookup = Lookup(explicit: explicit)
        let nodeId = try lookup.int32("node.id")
        let brokerId = try lookup.int32("broker.id")
        self.nodeId = explicit["node.id"] == nil && brokerId >= 0 ? brokerId : nodeId

        let controllerNames = Set(
            lookup.string("controller.listener.names")?.split(separator: ",").map { $0.trimmingBlanks.uppercased() }
                ?? [])
        let protocolMap = Self.securityProtocolMap(lookup.string("listener.security.protocol.map") ?? "")
        var listeners: [Listener] = []
        for listener in try Listener.parseList(lookup.string("listeners") ?? "")
        where !controllerNames.contains(listener.name) {
            let securityProtocol = protocolMap[listener.name] ?? listener.name
            guard securityProtocol == "PLAINTEXT" else {
                throw .invalidListener(listener.description, reason: "only PLAINTEXT listeners are supported")
            }
            listeners.append(listener)
        }
        guard !listeners.isEmpty else {
            throw .invalidValue(key: "listeners", value: lookup.string("listeners") ?? "", reason: "no listener")
        }
        self.listeners = listeners
        self.advertisedListeners = try Listener.parseList(lookup.string("advertised.listeners") ?? "")

        if let dirs = explicit["log.dirs"] {
            let list = dirs.split(separator: ",").map { $0.trimmingBlanks }.filter { !$0.isEmpty }
            guard let first = list.first else {
                throw .invalidValue(key: "log.dirs", value: dirs, reason: "empty")
            }
            guard list.count == 1 else {
                throw .invalidValue(key: "log.dirs", value: dirs, reason: "Runnel uses exactly one log directory")
            }
            logDirectory = first
        } else {
            logDirectory = lookup.string("log.dir") ?? "./data/runnel"
        }

        numPartitions = try lookup.int32("num.partitions")
        guard numPartitions >= 1 else {
            throw .invalidValue(key: "num.partitions", value: "\(numPartitions)", reason: "must be >= 1")
        }
        let replication = try lookup.int32("default.replication.factor")
        guard replication == 1 else {
            throw .invalidValue(
                key: "default.replication.factor", value: "\(replication)", reason: "a single broker needs 1")
        }
        defaultReplicationFactor = 1
        autoCreateTopicsEnable = lookup.bool("auto.create.topics.enable")
        deleteTopicEnable = lookup.bool("delete.topic.enable")
        socketRequestMaxBytes = Int(try lookup.int32("socket.request.max.bytes"))
        guard socketRequestMaxBytes > 0 else {
            throw .invalidValue(
                key: "socket.request.max.bytes", value: "\(socketRequestMaxBytes)", reason: "must be > 0")
        }
        fetchMaxBytes = Int(try lookup.int32("fetch.max.bytes"))
        logCacheMaxBytes = Int(clamping: try lookup.int64("log.cache.max.bytes"))
        logRetentionCheckIntervalMs = try lookup.int64("log.retention.check.interval.ms")
        connectionsMaxIdleMs = try lookup.int64("connections.max.idle.ms")
        logFlushOffsetCheckpointIntervalMs = try lookup.int64("log.flush.offset.checkpoint.interval.ms")
        clusterId = lookup.string("cluster.id")
        producerIdExpirationMs = try lookup.int64("producer.id.expiration.ms")
        metricsListener = try MetricsListenerAddress.parse(lookup.string("metrics.listener") ?? "")
        topicDefaults = try Self.deriveTopicDefaults(lookup)
    }

    /// The effective value of a known key: explicit, else its default (nil when unset with no default).
    public func value(of key: String) -> String? {
        explicit[key] ?? BrokerConfigKey.byName[key]?.defaultValue
    }

    /// Reads a properties file and builds the configuration.
    /// - Throws: `BrokerConfigurationError`.
    public static func load(
        path: String?, environment: [String: String], overrides: [(String, String)], strict: Bool
    ) throws(BrokerConfigurationError) -> BrokerConfiguration {
        var text: String?
        if let path {
            do {
                text = try FileIO.readText(path: path)
            } catch {
                throw .unreadableFile(path: path, reason: "\(error)")
            }
        }
        return try BrokerConfiguration(
            propertiesText: text, environment: environment, overrides: overrides, strict: strict)
    }

    // MARK: - Derivation

    /// Maps broker keys to topic-level keys, applying Kafka's precedence (ms > minutes > hours).
    private static func deriveTopicDefaults(_ lookup: Lookup) throws(BrokerConfigurationError) -> [String: String] {
        var result: [String: String] = [:]
        let explicit = lookup.explicit
        for key in BrokerConfigKey.all {
            guard let topicKey = key.topicSynonym, let value = explicit[key.name] else { continue }
            switch key.name {
            case "log.retention.ms", "log.retention.minutes", "log.retention.hours", "log.roll.ms", "log.roll.hours":
                continue  // handled below, with precedence
            case "log.cleanup.policy":
                result[topicKey] = value.split(separator: ",").map { $0.trimmingBlanks }.joined(separator: ",")
            default:
                result[topicKey] = value
            }
        }
        if let ms = explicit["log.retention.ms"] {
            result["retention.ms"] = ms
        } else if let minutes = explicit["log.retention.minutes"] {
            result["retention.ms"] = try scaled(minutes, by: 60_000, key: "log.retention.minutes")
        } else if let hours = explicit["log.retention.hours"] {
            result["retention.ms"] = try scaled(hours, by: 3_600_000, key: "log.retention.hours")
        }
        if let ms = explicit["log.roll.ms"] {
            result["segment.ms"] = ms
        } else if let hours = explicit["log.roll.hours"] {
            result["segment.ms"] = try scaled(hours, by: 3_600_000, key: "log.roll.hours")
        }
        return result
    }

    /// `value × factor` as text; negative values (-1 = forever) stay -1.
    private static func scaled(_ value: String, by factor: Int64, key: String) throws(BrokerConfigurationError)
        -> String
    {
        guard let number = Int64(value.trimmingBlanks) else {
            throw .invalidValue(key: key, value: value, reason: "expected an integer")
        }
        if number < 0 { return "-1" }
        let (product, overflow) = number.multipliedReportingOverflow(by: factor)
        return overflow ? "\(Int64.max)" : "\(product)"
    }

    private static func securityProtocolMap(_ text: String) -> [String: String] {
        var map: [String: String] = [:]
        for pair in text.split(separator: ",") {
            let parts = pair.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { map[parts[0].trimmingBlanks.uppercased()] = parts[1].trimmingBlanks.uppercased() }
        }
        return map
    }

    /// Typed reads of explicit-or-default values (validated already by `BrokerConfigKey.validate`).
    private struct Lookup {
        let explicit: [String: String]

        func string(_ key: String) -> String? { explicit[key] ?? BrokerConfigKey.byName[key]?.defaultValue }

        func int32(_ key: String) throws(BrokerConfigurationError) -> Int32 {
            let text = string(key) ?? ""
            guard let value = Int32(text.trimmingBlanks) else {
                throw .invalidValue(key: key, value: text, reason: "expected a 32-bit integer")
            }
            return value
        }

        func int64(_ key: String) throws(BrokerConfigurationError) -> Int64 {
            let text = string(key) ?? ""
            guard let value = Int64(text.trimmingBlanks) else {
                throw .invalidValue(key: key, value: text, reason: "expected a 64-bit integer")
            }
            return value
        }

        func bool(_ key: String) -> Bool { string(key)?.trimmingBlanks.lowercased() == "true" }
    }
}

extension String {
    var replacingUnderscoresWithDots: String { String(map { $0 == "_" ? "." : $0 }) }
}
