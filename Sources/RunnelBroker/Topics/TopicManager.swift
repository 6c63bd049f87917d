public import Logging
import RunnelProtocol
public import RunnelStorage
import Synchronization

/// Topics and their partition logs: the topic table (`TopicStore`) joined with the `LogManager`.
///
/// Thread-safe. Every mutating operation creates directories or fsyncs metadata, so callers run it on the
/// thread pool, never an event loop. `adminLock` serialises create/delete/alter so "check then act" sequences
/// (exists? → create logs → record) cannot interleave; the produce/fetch path never takes it.
public final class TopicManager: Sendable {
    public let store: TopicStore
    public let logManager: LogManager
    /// The broker-level defaults every topic starts from (Kafka defaults + broker keys).
    public let defaultLogConfig: LogConfig
    private let logger: Logger
    private let adminLock = Mutex<Void>(())
    /// Topics recorded in the table whose partition logs are still being created. Queries hide them, so a
    /// concurrent produce, fetch or FindCoordinator never sees a topic without its logs (it sees "unknown topic"
    /// and retries, or auto-creation waits on `adminLock` and then finds it complete). The table is written
    /// before the logs so that a crash in between leaves a topic whose missing logs `reconcile()` creates with
    /// the recorded configs.
    private let creating = Mutex<Set<String>>([])

    public init(store: TopicStore, logManager: LogManager, defaultLogConfig: LogConfig, logger: Logger) {
        self.store = store
        self.logManager = logManager
        self.defaultLogConfig = defaultLogConfig
        self.logger = logger
    }

    // MARK: - Queries (any thread, no I/O)

    public func topic(_ name: String) -> TopicMetadata? {
        if creating.withLock({ $0.contains(name) }) { return nil }
        return store.topic(name)
    }
    /// The topic with `id`, hidden while its logs are being created (as `topic(_:)`).
    func topic(id: KafkaUUID) -> TopicMetadata? {
        guard let topic = store.topic(id: id), !creating.withLock({ $0.contains(topic.name) }) else { return nil }
        return topic
    }
    public func allTopics() -> [TopicMetadata] {
        let hidden = creating.withLock { $0 }
        let all = store.allTopics()
        return hidden.isEmpty ? all : all.filter { !hidden.contains($0.name) }
    }

    /// The partition log, if the topic and partition exist.
    public func log(_ tp: TopicPartition) -> PartitionLog? {
        guard let topic = topic(tp.topic), tp.partition >= 0, tp.partition < topic.partitionCount else {
            return nil
        }
        return logManager.log(for: tp)
    }

    /// Defaults overlaid with the topic's overrides.
    /// - Throws: `TopicError.invalidConfig` naming `topic` for an unknown key or a bad value.
    public func logConfig(for topic: String, overrides: [String: String]) throws(TopicError) -> LogConfig {
        var config = defaultLogConfig
        do {
            try config.apply(overrides)
        } catch {
            throw .invalidConfig(topic, reason: error.description)
        }
        return config
    }

    // MARK: - Admin (blocking: thread pool only)

    /// Creates a topic and its partition logs.
    /// - Parameter validateOnly: check everything, change nothing.
    /// - Throws: `TopicError` (name, exists, partitions, replication factor, config, storage).
    @discardableResult
    public func createTopic(
        _ name: String, partitions: Int32, replicationFactor: Int16 = 1, configs: [String: String] = [:],
        validateOnly: Bool = false
    ) throws(TopicError) -> TopicMetadata {
        if let reason = TopicName.validationError(name) { throw .invalidName(name, reason: reason) }
        guard partitions >= 1 else {
            throw .invalidPartitions(name, reason: "number of partitions must be larger than 0")
        }
        guard replicationFactor == 1 || replicationFactor == -1 else {
            throw .invalidReplicationFactor(
                name, reason: "replication factor \(replicationFactor) is larger than the 1 available broker")
        }
        let config = try logConfig(for: name, overrides: configs)
        let result: Result<TopicMetadata, TopicError> = adminLock.withLock { _ in
            if store.topic(name) != nil { return .failure(.alreadyExists(name)) }
            if validateOnly {
                return .success(TopicMetadata(name: name, topicId: .random(), partitionCount: partitions, configs: configs))
            }
            do throws(TopicError) {
                creating.withLock { _ = $0.insert(name) }
                defer { creating.withLock { _ = $0.remove(name) } }
                let metadata = try store.create(name, partitionCount: partitions, configs: configs)
                try createLogs(metadata, partitions: 0..<partitions, config: config)
                if TopicName.hasCollisionChars(name) {
                    logger.info(
                        "topic name contains '.' or '_', which collide in metric names", metadata: ["topic": "\(name)"])
                }
                logger.info(
                    "created topic",
                    metadata: ["topic": "\(name)", "partitions": "\(partitions)", "topic.id": "\(metadata.topicId)"])
                return .success(metadata)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Deletes a topic and its logs.
    public func deleteTopic(_ name: String) throws(TopicError) -> TopicMetadata {
        let result: Result<TopicMetadata, TopicError> = adminLock.withLock { _ in
            guard let topic = store.topic(name) else { return .failure(.unknownTopic(name)) }
            do throws(TopicError) {
                // Record the deletion first: a crash then leaves orphan directories, which startup removes.
                try store.remove(name)
                for partition in 0..<topic.partitionCount {
                    do {
                        try logManager.deleteLog(TopicPartition(topic: name, partition: partition))
                    } catch {
                        logger.warning(
                            "could not delete partition log",
                            metadata: ["topic": "\(name)", "partition": "\(partition)", "error": "\(error)"])
                    }
                }
                logger.info("deleted topic", metadata: ["topic": "\(name)"])
                return .success(topic)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Grows a topic to `newTotal` partitions.
    public func createPartitions(_ name: String, newTotal: Int32, validateOnly: Bool) throws(TopicError) {
        let result: Result<Void, TopicError> = adminLock.withLock { _ in
            guard var topic = store.topic(name) else { return .failure(.unknownTopic(name)) }
            guard newTotal > topic.partitionCount else {
                return .failure(
                    .invalidPartitions(
                        name,
                        reason: "topic currently has \(topic.partitionCount) partitions, \(newTotal) would not be an increase"))
            }
            if validateOnly { return .success(()) }
            do throws(TopicError) {
                let config = try logConfig(for: name, overrides: topic.configs)
                let old = topic.partitionCount
                topic.partitionCount = newTotal
                try createLogs(topic, partitions: old..<newTotal, config: config)
                try store.update(topic)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    /// Replaces a topic's overrides (AlterConfigs) and applies them to its open logs.
    public func setConfigs(_ name: String, configs: [String: String], validateOnly: Bool) throws(TopicError) {
        let result: Result<Void, TopicError> = adminLock.withLock { _ in
            guard var topic = store.topic(name) else { return .failure(.unknownTopic(name)) }
            do throws(TopicError) {
                let config = try logConfig(for: name, overrides: configs)
                if validateOnly { return .success(()) }
                topic.configs = configs
                try store.update(topic)
                for partition in 0..<topic.partitionCount {
                    logManager.log(for: TopicPartition(topic: name, partition: partition))?.updateConfig(config)
                }
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    /// Startup: registers partition directories found on disk that the table lacks (data from Kafka or an older
    /// table), creates missing logs of known topics, and writes `partition.metadata` where absent.
    public func reconcile() throws(TopicError) {
        var found: [String: Int32] = [:]
        for log in logManager.allLogs() {
            let tp = log.topicPartition
            found[tp.topic] = max(found[tp.topic] ?? 0, tp.partition + 1)
        }
        for (name, count) in found.sorted(by: { $0.key < $1.key }) {
            if let known = store.topic(name) {
                if count > known.partitionCount {
                    var grown = known
                    grown.partitionCount = count
                    try store.update(grown)
                }
            } else if TopicName.validationError(name) == nil {
                let id = readPartitionMetadataId(TopicPartition(topic: name, partition: 0))
                try store.create(name, partitionCount: count, configs: [:], topicId: id)
                logger.info("registered topic found on disk", metadata: ["topic": "\(name)", "partitions": "\(count)"])
            }
        }
        for topic in store.allTopics() {
            let config: LogConfig
            do {
                config = try logConfig(for: topic.name, overrides: topic.configs)
            } catch {
                logger.warning(
                    "ignoring invalid stored topic config", metadata: ["topic": "\(topic.name)", "error": "\(error)"])
                config = defaultLogConfig
            }
            try createLogs(topic, partitions: 0..<topic.partitionCount, config: config)
        }
    }

    // MARK: - Private

    private func createLogs(_ topic: TopicMetadata, partitions: Range<Int32>, config: LogConfig) throws(TopicError) {
        for partition in partitions {
            let tp = TopicPartition(topic: topic.name, partition: partition)
            do {
                let log = try logManager.getOrCreateLog(tp, config: config)
                if log.config != config { log.updateConfig(config) }
                try writePartitionMetadata(tp, topicId: topic.topicId)
            } catch {
                throw .storage(topic.name, reason: "\(error)")
            }
        }
    }

    private func partitionDirectory(_ tp: TopicPartition) -> String {
        logManager.directory + "/" + tp.directoryName
    }

    /// Kafka's `partition.metadata` ("version: 0\ntopic_id: <base64>"), written once, crash-safely.
    private func writePartitionMetadata(_ tp: TopicPartition, topicId: KafkaUUID) throws(FileIOError) {
        let path = partitionDirectory(tp) + "/partition.metadata"
        if FileIO.fileExists(path) { return }
        try FileIO.writeAtomically(path: path, bytes: Array("version: 0\ntopic_id: \(topicId)\n".utf8))
    }

    private func readPartitionMetadataId(_ tp: TopicPartition) -> KafkaUUID? {
        let path = partitionDirectory(tp) + "/partition.metadata"
        guard let text = try? FileIO.readText(path: path) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("topic_id:") {
            return KafkaUUID(kafkaString: line.dropFirst("topic_id:".count).trimmingBlanks)
        }
        return nil
    }
}
