public import RunnelProtocol

/// What the broker knows about one topic: its id, partition count and topic-level config overrides.
///
/// Invariant: `partitionCount >= 1`; partitions are numbered `0..<partitionCount`.
public struct TopicMetadata: Sendable, Hashable, Codable {
    public var name: String
    /// Stable random id (Metadata v10+, `partition.metadata`).
    public var topicId: KafkaUUID
    public var partitionCount: Int32
    /// Topic-level overrides by Kafka key (`retention.ms` → "3600000"); broker defaults fill the rest.
    public var configs: [String: String]

    public init(name: String, topicId: KafkaUUID, partitionCount: Int32, configs: [String: String]) {
        self.name = name
        self.topicId = topicId
        self.partitionCount = partitionCount
        self.configs = configs
    }

    public var isInternal: Bool { TopicName.isInternal(name) }

    private enum CodingKeys: String, CodingKey { case name, topicId = "topic_id", partitionCount = "partitions", configs }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        let idText = try container.decode(String.self, forKey: .topicId)
        guard let id = KafkaUUID(kafkaString: idText) else {
            throw DecodingError.dataCorruptedError(forKey: .topicId, in: container, debugDescription: "bad topic id")
        }
        topicId = id
        partitionCount = try container.decode(Int32.self, forKey: .partitionCount)
        configs = try container.decodeIfPresent([String: String].self, forKey: .configs) ?? [:]
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(topicId.description, forKey: .topicId)
        try container.encode(partitionCount, forKey: .partitionCount)
        try container.encode(configs, forKey: .configs)
    }
}
