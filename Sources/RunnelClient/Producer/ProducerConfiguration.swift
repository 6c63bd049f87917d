public import RunnelRecords

/// Producer settings, named after the Java client's.
public struct ProducerConfiguration: Sendable {
    /// `acks`: how many acknowledgements the broker waits for before answering.
    public enum Acks: Int16, Sendable, CaseIterable {
        /// Fire and forget: the broker sends no response; records count as written, not acknowledged.
        case none = 0
        /// The leader has appended the batch.
        case leader = 1
        /// Every in-sync replica has it (on a single-node broker: the same as `leader`, after any flush policy).
        case all = -1

        /// Parses `0`, `1`, `all` or `-1`.
        public init?(name: String) {
            switch name.lowercased() {
            case "0": self = .none
            case "1": self = .leader
            case "all", "-1": self = .all
            default: return nil
            }
        }
    }

    public var acks: Acks = .all
    public var compression: CompressionCodec = .none
    /// Codec level; nil = the codec's default.
    public var compressionLevel: Int? = nil
    /// `linger.ms`: how long a batch that is not full waits for more records.
    public var lingerMs: Int64 = 5
    /// `batch.size`: a batch is closed once its (uncompressed) size reaches this many bytes. A record larger than
    /// this gets a batch of its own.
    public var batchSizeBytes: Int = 16_384
    /// `enable.idempotence`: InitProducerId plus per-partition sequence numbers, so the broker drops duplicates.
    /// In effect only with `acks == .all` (as the Java client, which turns it off when acks conflicts).
    public var idempotent: Bool = true
    /// `max.in.flight.requests.per.connection` (at most 5 with idempotence, as Kafka's broker keeps 5 batches of
    /// producer state per partition).
    public var maxInFlightRequests: Int = 5
    /// The most requests in flight an idempotent producer may have (Kafka's limit, too).
    public static let maxIdempotentInFlight = 5
    /// The ack timeout sent in ProduceRequest, ms.
    public var ackTimeoutMs: Int32 = 30_000
    /// `delivery.timeout.ms`: a batch that is still not acknowledged this long after its first record was
    /// appended fails with the last error seen (Kafka's default, 2 minutes). Retries stop at this bound.
    public var deliveryTimeoutMs: Int64 = 120_000
    /// `retries`: how many times a batch is resent after a retriable error (Kafka's default: effectively
    /// unlimited, bounded by `deliveryTimeoutMs`). 0 turns retries off.
    public var retries: Int = Int(Int32.max)
    /// `retry.backoff.ms`: wait before resending a failed batch and before reconnecting; reconnect attempts
    /// double it up to `retryBackoffMaxMs`.
    public var retryBackoffMs: Int64 = 100
    /// `retry.backoff.max.ms` / `reconnect.backoff.max.ms`.
    public var retryBackoffMaxMs: Int64 = 1_000
    /// Largest Produce request body the producer builds (several partitions' batches), bytes.
    public var maxRequestBytes: Int = 8 * 1024 * 1024
    /// Let the broker create unknown topics (when its `auto.create.topics.enable` allows).
    public var allowAutoTopicCreation: Bool = false

    public init() {}

    /// Whether idempotence is actually used.
    public var usesIdempotence: Bool { idempotent && acks == .all }
}
