/// A topic config entry as DescribeConfigs reports it.
public struct ConfigEntry: Sendable, Equatable {
    public var name: String
    /// nil for sensitive or unset values.
    public var value: String?
    public var isDefault: Bool
    public var isReadOnly: Bool
    public var isSensitive: Bool
    /// Kafka's ConfigSource: 1 topic, 4 static broker, 5 default, ...
    public var source: Int8
}

/// The offsets (and size, when the broker reports it) of one partition.
public struct PartitionOffsets: Sendable, Equatable {
    public var partition: Int32
    /// Log start offset.
    public var earliest: Int64
    /// High watermark (next offset to be written).
    public var latest: Int64
    /// Bytes on disk, from DescribeLogDirs; nil when the broker does not serve it.
    public var sizeBytes: Int64?

    /// Records currently retained (`latest - earliest`).
    public var recordCount: Int64 { latest - earliest }
}

/// Everything `runnel topics describe` shows.
public struct TopicDescription: Sendable, Equatable {
    public var metadata: TopicMetadata
    public var offsets: [PartitionOffsets]
    /// Non-default configs first, then defaults, each sorted by name.
    public var configs: [ConfigEntry]
}
