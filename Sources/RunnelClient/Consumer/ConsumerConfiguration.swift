/// Settings of ``KafkaConsumer``, named after the Java client's.
public struct ConsumerConfiguration: Sendable {
    /// `fetch.max.wait.ms`: how long the broker may hold a fetch waiting for `minBytes`.
    public var maxWaitMs: Int32 = 500
    /// `fetch.min.bytes`.
    public var minBytes: Int32 = 1
    /// `fetch.max.bytes`: response size cap.
    public var maxBytes: Int32 = 52_428_800
    /// `max.partition.fetch.bytes` (the broker still returns one whole batch if the first is larger).
    public var partitionMaxBytes: Int32 = 1_048_576
    /// `check.crcs`: verify each batch's CRC-32C.
    public var checkCRCs = true
    /// Where to go after OFFSET_OUT_OF_RANGE: true = the nearest end (earliest if before the log, else latest).
    public var resetOnOutOfRange = true

    public init() {}
}
