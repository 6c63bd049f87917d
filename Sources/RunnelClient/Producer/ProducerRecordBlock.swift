public import NIOCore
public import RunnelRecords

/// Many records for one topic whose keys and values are byte ranges of one buffer, with the same headers and
/// partition choice: the bulk form of ``ProducerRecord`` (the CLI hands each input chunk over as one block).
///
/// A block costs one buffer plus 16 bytes per record, instead of a ``ProducerRecord`` (topic, two buffer
/// slices, a header array) per record; the producer copies each range straight into its batch.
///
/// Invariant checked by the producer: every span lies within `buffer`'s readable bytes; a span that does not
/// is reported as a failure of that record.
public struct ProducerRecordBlock: Sendable {
    /// One record: offsets are relative to `buffer.readerIndex`; a length of -1 is a null key or value.
    public struct Span: Sendable, Equatable {
        public var keyOffset: Int32
        public var keyLength: Int32
        public var valueOffset: Int32
        public var valueLength: Int32

        public init(keyOffset: Int32 = 0, keyLength: Int32 = -1, valueOffset: Int32, valueLength: Int32) {
            self.keyOffset = keyOffset
            self.keyLength = keyLength
            self.valueOffset = valueOffset
            self.valueLength = valueLength
        }
    }

    public var topic: String
    /// The partition of every record; nil lets the ``Partitioner`` choose per record.
    public var partition: Int32?
    public var headers: [RecordHeader]
    /// Create time in ms since the epoch for every record; nil = the time of `send`.
    public var timestamp: Int64?
    public var buffer: ByteBuffer
    public var spans: [Span]

    public init(
        topic: String, partition: Int32? = nil, headers: [RecordHeader] = [], timestamp: Int64? = nil,
        buffer: ByteBuffer, spans: [Span]
    ) {
        self.topic = topic
        self.partition = partition
        self.headers = headers
        self.timestamp = timestamp
        self.buffer = buffer
        self.spans = spans
    }

    /// Number of records.
    public var count: Int { spans.count }
}
