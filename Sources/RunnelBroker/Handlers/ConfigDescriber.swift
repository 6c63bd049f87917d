import RunnelStorage

/// Kafka's `ConfigSource` values (DescribeConfigs v1+).
enum ConfigSource: Int8, Sendable {
    case unknown = 0
    case topicConfig = 1
    case dynamicBrokerConfig = 2
    case dynamicDefaultBrokerConfig = 3
    case staticBrokerConfig = 4
    case defaultConfig = 5
}

/// One described configuration entry.
struct ConfigEntry: Sendable {
    var name: String
    var value: String?
    var source: ConfigSource
    var readOnly: Bool
    var type: BrokerConfigKey.ValueType
    var synonyms: [(name: String, value: String?, source: ConfigSource)]

    var isDefault: Bool { source == .defaultConfig }
}

/// Builds DescribeConfigs/CreateTopics entries for topics and for the broker, with sources and synonyms.
///
/// A topic key's value comes from the topic override (TOPIC_CONFIG), else a broker key set in the properties
/// file, environment or flags (STATIC_BROKER_CONFIG), else Kafka's default (DEFAULT_CONFIG). Synonyms list
/// those layers in that order, as Kafka does. Broker keys are read-only (no dynamic broker configs here).
struct ConfigDescriber {
    let broker: BrokerContext

    /// Types of topic keys without a broker synonym.
    private static let topicKeyTypes: [String: BrokerConfigKey.ValueType] = [
        "segment.jitter.ms": .long, "unclean.leader.election.enable": .boolean,
        "message.timestamp.difference.max.ms": .long, "message.downconversion.enable": .boolean,
        "follower.replication.throttled.replicas": .list, "leader.replication.throttled.replicas": .list,
        "local.retention.ms": .long, "local.retention.bytes": .long, "remote.storage.enable": .boolean,
        "compression.gzip.level": .int, "compression.lz4.level": .int, "compression.zstd.level": .int,
        "min.insync.replicas": .int,
    ]

    /// Every topic-level key (or only `keys`) of a topic with these overrides.
    func topicEntries(overrides: [String: String], keys: [String]?, includeSynonyms: Bool) -> [ConfigEntry] {
        var config = broker.topics.defaultLogConfig
        try? config.apply(overrides)
        let wanted = keys.map(Set.init)
        let configuration = broker.configuration
        return config.kafkaProperties.compactMap { property -> ConfigEntry? in
            if let wanted, !wanted.contains(property.key) { return nil }
            let brokerKeys = BrokerConfigKey.all.filter { $0.topicSynonym == property.key }
            let explicitBroker = brokerKeys.filter { configuration.explicit[$0.name] != nil }
            let source: ConfigSource =
                overrides[property.key] != nil ? .topicConfig : explicitBroker.isEmpty ? .defaultConfig : .staticBrokerConfig
            var synonyms: [(name: String, value: String?, source: ConfigSource)] = []
            if includeSynonyms {
                if let override = overrides[property.key] { synonyms.append((property.key, override, .topicConfig)) }
                for key in explicitBroker { synonyms.append((key.name, configuration.explicit[key.name], .staticBrokerConfig)) }
                if let primary = brokerKeys.last(where: { $0.defaultValue != nil }) {
                    synonyms.append((primary.name, primary.defaultValue, .defaultConfig))
                }
            }
            return ConfigEntry(
                name: property.key, value: property.value, source: source, readOnly: false,
                type: brokerKeys.first?.type ?? Self.topicKeyTypes[property.key] ?? .string, synonyms: synonyms)
        }
    }

    /// Every broker key Runnel knows (or only `keys`), read-only.
    func brokerEntries(keys: [String]?, includeSynonyms: Bool) -> [ConfigEntry] {
        let wanted = keys.map(Set.init)
        let configuration = broker.configuration
        return BrokerConfigKey.all.compactMap { key -> ConfigEntry? in
            if let wanted, !wanted.contains(key.name) { return nil }
            let explicit = configuration.explicit[key.name]
            let source: ConfigSource = explicit != nil ? .staticBrokerConfig : .defaultConfig
            var synonyms: [(name: String, value: String?, source: ConfigSource)] = []
            if includeSynonyms {
                if let explicit { synonyms.append((key.name, explicit, .staticBrokerConfig)) }
                if let value = key.defaultValue { synonyms.append((key.name, value, .defaultConfig)) }
            }
            return ConfigEntry(
                name: key.name, value: explicit ?? key.defaultValue, source: source, readOnly: true, type: key.type,
                synonyms: synonyms)
        }
    }
}
