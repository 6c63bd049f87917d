internal import RunnelProtocol

/// Topic administration over one connection: create, list, describe, alter configs, add partitions, delete,
/// and per-partition offsets.
///
/// Every call maps a broker error code to ``ClientError/broker(operation:code:message:)`` (or
/// ``ClientError/unknownTopic(_:)``), so the message names the topic and the Kafka error.
/// `Sendable`: it only holds the (thread-safe) connection.
public struct KafkaAdmin: Sendable {
    public let connection: KafkaConnection

    public init(connection: KafkaConnection) {
        self.connection = connection
    }

    /// Connects to `bootstrap`; close with ``close()``.
    public static func connect(to bootstrap: BrokerAddress, clientId: String = "runnel-admin") async throws(ClientError)
        -> KafkaAdmin
    {
        KafkaAdmin(connection: try await KafkaConnection.connect(to: bootstrap, clientId: clientId))
    }

    public func close() async { await connection.close() }

    /// Creates a topic. `partitions`/`replicationFactor` -1 = the broker's defaults.
    public func createTopic(
        _ name: String, partitions: Int32 = -1, replicationFactor: Int16 = -1, configs: [String: String] = [:],
        validateOnly: Bool = false
    ) async throws(ClientError) {
        let version = try connection.version(for: .createTopics)
        // CreateTopics v3 and older reject -1 ("use the default"): send 1 there.
        let count = partitions < 0 && version < 4 ? 1 : partitions
        let factor = replicationFactor < 0 && version < 4 ? 1 : replicationFactor
        let request = CreateTopicsRequest(
            topics: [
                .init(
                    name: name, numPartitions: count, replicationFactor: factor,
                    configs: configs.sorted { $0.key < $1.key }.map { .init(name: $0.key, value: $0.value) })
            ], timeoutMs: 30_000, validateOnly: validateOnly)
        let response = try await connection.send(request, version: version)
        for result in response.topics where result.errorCode != 0 {
            throw .broker(
                operation: "create topic \(result.name)", code: KafkaErrorCode(rawValue: result.errorCode),
                message: result.errorMessage)
        }
    }

    /// Deletes topics.
    /// - Throws: for the first topic that failed (``ClientError/unknownTopic(_:)`` if it did not exist).
    public func deleteTopics(_ names: [String]) async throws(ClientError) {
        let version = try connection.version(for: .deleteTopics)
        // v6 names topics in `topics` (name or id), older versions in `topicNames`.
        let request =
            version >= 6
            ? DeleteTopicsRequest(topics: names.map { .init(name: $0) }, timeoutMs: 30_000)
            : DeleteTopicsRequest(topicNames: names, timeoutMs: 30_000)
        let response = try await connection.send(request, version: version)
        for result in response.responses where result.errorCode != 0 {
            let code = KafkaErrorCode(rawValue: result.errorCode)
            if code == .unknownTopicOrPartition { throw .unknownTopic(result.name ?? "?") }
            throw .broker(operation: "delete topic \(result.name ?? "?")", code: code, message: result.errorMessage)
        }
    }

    /// Every topic (internal ones only with `includeInternal`), sorted by name.
    public func listTopics(includeInternal: Bool = false) async throws(ClientError) -> [TopicMetadata] {
        let response = try await connection.metadata(topics: nil)
        return response.topics
            .filter { $0.errorCode == 0 && (includeInternal || !$0.isInternal) }
            .map { KafkaConnection.topicMetadata($0) }
            .sorted { $0.name < $1.name }
    }

    /// Metadata, per-partition offsets (and sizes when available) and configs of one topic.
    public func describeTopic(_ name: String) async throws(ClientError) -> TopicDescription {
        let metadata = try await connection.topicMetadata(name)
        let offsets = try await partitionOffsets(name, partitions: metadata.partitions.map(\.index))
        let configs = try await describeConfigs(topic: name)
        return TopicDescription(metadata: metadata, offsets: offsets, configs: configs)
    }

    /// Earliest and latest offsets of each partition, plus sizes when the broker serves DescribeLogDirs.
    public func partitionOffsets(_ topic: String, partitions: [Int32]? = nil) async throws(ClientError)
        -> [PartitionOffsets]
    {
        let indices: [Int32]
        if let partitions {
            indices = partitions
        } else {
            indices = try await connection.topicMetadata(topic).partitions.map(\.index)
        }
        let tps = indices.map { TopicPartition(topic: topic, partition: $0) }
        let earliest = try await connection.listOffsets(tps, timestamp: KafkaConnection.earliestTimestamp)
        let latest = try await connection.listOffsets(tps, timestamp: KafkaConnection.latestTimestamp)
        let sizes = (try? await logDirSizes(topic, partitions: indices)) ?? [:]
        return tps.map { tp in
            PartitionOffsets(
                partition: tp.partition, earliest: earliest[tp]?.offset ?? -1, latest: latest[tp]?.offset ?? -1,
                sizeBytes: sizes[tp.partition])
        }
    }

    /// Partition sizes in bytes from DescribeLogDirs; empty when the broker does not serve it.
    private func logDirSizes(_ topic: String, partitions: [Int32]) async throws(ClientError) -> [Int32: Int64] {
        guard connection.apiVersions.supports(.describeLogDirs) else { return [:] }
        let request = DescribeLogDirsRequest(topics: [.init(topic: topic, partitions: partitions)])
        let response = try await connection.send(request)
        var sizes: [Int32: Int64] = [:]
        for dir in response.results where dir.errorCode == 0 {
            for entry in dir.topics where entry.name == topic {
                for partition in entry.partitions {
                    sizes[partition.partitionIndex, default: 0] += partition.partitionSize
                }
            }
        }
        return sizes
    }

    /// The configs of a topic: non-default first, each group sorted by name.
    public func describeConfigs(topic: String) async throws(ClientError) -> [ConfigEntry] {
        let request = DescribeConfigsRequest(
            resources: [.init(resourceType: 2, resourceName: topic, configurationKeys: nil)])
        let response = try await connection.send(request)
        var entries: [ConfigEntry] = []
        for result in response.results {
            let code = KafkaErrorCode(rawValue: result.errorCode)
            if code == .unknownTopicOrPartition { throw .unknownTopic(topic) }
            guard code == .none else {
                throw .broker(operation: "describe configs of \(topic)", code: code, message: result.errorMessage)
            }
            for config in result.configs {
                entries.append(
                    ConfigEntry(
                        name: config.name, value: config.value, isDefault: config.isDefault || config.configSource == 5,
                        isReadOnly: config.readOnly, isSensitive: config.isSensitive, source: config.configSource))
            }
        }
        return entries.sorted { ($0.isDefault ? 1 : 0, $0.name) < ($1.isDefault ? 1 : 0, $1.name) }
    }

    /// Sets and deletes (reverts to default) topic configs with IncrementalAlterConfigs.
    public func alterConfigs(topic: String, set: [String: String], delete: [String] = [], validateOnly: Bool = false)
        async throws(ClientError)
    {
        var configs: [IncrementalAlterConfigsRequest.AlterableConfig] = set.sorted { $0.key < $1.key }.map {
            .init(name: $0.key, configOperation: 0, value: $0.value)
        }
        configs += delete.map { .init(name: $0, configOperation: 1, value: nil) }
        let request = IncrementalAlterConfigsRequest(
            resources: [.init(resourceType: 2, resourceName: topic, configs: configs)], validateOnly: validateOnly)
        let response = try await connection.send(request)
        for result in response.responses where result.errorCode != 0 {
            let code = KafkaErrorCode(rawValue: result.errorCode)
            if code == .unknownTopicOrPartition { throw .unknownTopic(topic) }
            throw .broker(operation: "alter configs of \(topic)", code: code, message: result.errorMessage)
        }
    }

    /// Grows a topic to `totalCount` partitions.
    public func createPartitions(topic: String, totalCount: Int32, validateOnly: Bool = false) async throws(ClientError)
    {
        let request = CreatePartitionsRequest(
            topics: [.init(name: topic, count: totalCount, assignments: nil)], timeoutMs: 30_000,
            validateOnly: validateOnly)
        let response = try await connection.send(request)
        for result in response.results where result.errorCode != 0 {
            let code = KafkaErrorCode(rawValue: result.errorCode)
            if code == .unknownTopicOrPartition { throw .unknownTopic(topic) }
            throw .broker(operation: "add partitions to \(topic)", code: code, message: result.errorMessage)
        }
    }
}
