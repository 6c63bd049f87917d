public import NIOCore
public import RunnelRecords

/// A record read from a partition. Key and value are slices of the fetch response (no copy).
public struct ConsumerRecord: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// Ms since the epoch: the create time, or the broker's append time when `isLogAppendTime`.
    public var timestamp: Int64
    public var isLogAppendTime: Bool
    public var key: ByteBuffer?
    public var value: ByteBuffer?
    public var headers: [RecordHeader]

    public init(
        topic: String, partition: Int32, offset: Int64, timestamp: Int64, isLogAppendTime: Bool = false,
        key: ByteBuffer?, value: ByteBuffer?, headers: [RecordHeader] = []
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
        self.isLogAppendTime = isLogAppendTime
        self.key = key
        self.value = value
        self.headers = headers
    }

    /// The value as UTF-8 text (invalid sequences replaced), nil for a null value.
    public var valueString: String? { value.map { String(decoding: $0.readableBytesView, as: UTF8.self) } }
    /// The key as UTF-8 text (invalid sequences replaced), nil for a null key.
    public var keyString: String? { key.map { String(decoding: $0.readableBytesView, as: UTF8.self) } }
}
