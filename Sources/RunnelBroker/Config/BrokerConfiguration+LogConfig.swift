public import RunnelStorage

extension BrokerConfiguration {
    /// The storage `LogConfig` every topic starts from: Kafka's defaults overlaid with the topic-level values
    /// derived from broker keys (`log.segment.bytes` → `segment.bytes`, `log.retention.hours` → `retention.ms`, ...).
    /// - Throws: `BrokerConfigurationError.invalidValue` when a derived value is out of range for the log.
    public func defaultLogConfig() throws(BrokerConfigurationError) -> LogConfig {
        var config = LogConfig()
        do {
            try config.apply(topicDefaults)
        } catch {
            switch error {
            case let .invalidValue(key, value, reason):
                let brokerKey = BrokerConfigKey.all.first { $0.topicSynonym == key }?.name ?? key
                throw .invalidValue(key: brokerKey, value: value, reason: reason)
            case let .unknownKey(key):
                throw .invalidValue(key: key, value: topicDefaults[key] ?? "", reason: "not a topic-level key")
            }
        }
        return config
    }
}

extension BrokerConfiguration {
    /// The storage cleaner settings from `log.cleaner.*` (values were validated as numbers when parsed).
    public func cleanerConfig() -> CleanerConfig {
        var config = CleanerConfig()
        config.enabled = value(of: "log.cleaner.enable")?.lowercased() != "false"
        if let threads = value(of: "log.cleaner.threads").flatMap({ Int($0) }) { config.threads = max(1, threads) }
        if let bytes = value(of: "log.cleaner.dedupe.buffer.size").flatMap({ Int($0) }) {
            config.dedupeBufferBytes = max(1, bytes)
        }
        if let bytes = value(of: "log.cleaner.io.buffer.size").flatMap({ Int($0) }) { config.ioBufferBytes = max(1, bytes) }
        if let factor = value(of: "log.cleaner.io.buffer.load.factor").flatMap({ Double($0) }) { config.loadFactor = factor }
        if let rate = value(of: "log.cleaner.io.max.bytes.per.second").flatMap({ Double($0) }), rate > 0 {
            config.maxIoBytesPerSecond = rate
        }
        if let backoff = value(of: "log.cleaner.backoff.ms").flatMap({ Int64($0) }) { config.backoffMs = max(0, backoff) }
        return config
    }
}
