public import NIOCore
public import RunnelRecords

/// A record to produce. Key and value are copied into the batch when the record is appended, so they may be
/// slices of a larger buffer (the CLI passes slices of its input chunk).
public struct ProducerRecord: Sendable {
    public var topic: String
    /// The partition; nil lets the ``Partitioner`` choose.
    public var partition: Int32?
    public var key: ByteBuffer?
    public var value: ByteBuffer?
    public var headers: [RecordHeader]
    /// Create time in ms since the epoch; nil = the time of `send`.
    public var timestamp: Int64?

    public init(
        topic: String, partition: Int32? = nil, key: ByteBuffer? = nil, value: ByteBuffer?,
        headers: [RecordHeader] = [], timestamp: Int64? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }

    /// A record with UTF-8 `key` and `value`.
    public init(topic: String, partition: Int32? = nil, key: String?, value: String?, headers: [RecordHeader] = []) {
        self.init(
            topic: topic, partition: partition, key: key.map { ByteBuffer(string: $0) },
            value: value.map { ByteBuffer(string: $0) }, headers: headers)
    }

    /// Upper bound of the record's encoded size inside a batch, in bytes (varint overheads at their maximum).
    var estimatedSize: Int {
        var size = 21 + (key?.readableBytes ?? 0) + (value?.readableBytes ?? 0)
        for header in headers { size += header.encodedSize }
        return size
    }
}
