/// How a topic's records are cleaned up (`cleanup.policy`).
public enum CleanupPolicy: Sendable, Hashable {
    case delete
    case compact
    case compactAndDelete

    /// Parses Kafka's value: "delete", "compact", "compact,delete" or "delete,compact" (spaces ignored).
    public init?(kafkaValue: String) {
        let parts = Set(kafkaValue.split(separator: ",").map { $0.trimmingSpaces.lowercased() })
        switch parts {
        case ["delete"]: self = .delete
        case ["compact"]: self = .compact
        case ["compact", "delete"]: self = .compactAndDelete
        default: return nil
        }
    }

    /// Kafka's spelling of the policy.
    public var kafkaValue: String {
        switch self {
        case .delete: "delete"
        case .compact: "compact"
        case .compactAndDelete: "compact,delete"
        }
    }

    /// Whether retention by time/size applies (the policy contains `delete`).
    public var deletesSegments: Bool { self != .compact }
    /// Whether the log cleaner compacts this log (the policy contains `compact`).
    public var compacts: Bool { self != .delete }
}

/// Which timestamp a topic stores (`message.timestamp.type`).
public enum TimestampType: Sendable, Hashable {
    /// Keep the producer's timestamps (Kafka "CreateTime").
    case createTime
    /// The broker stamps its append time into `maxTimestamp` and sets attribute bit 3 (Kafka "LogAppendTime").
    case logAppendTime

    /// Parses "CreateTime" or "LogAppendTime".
    public init?(kafkaValue: String) {
        switch kafkaValue {
        case "CreateTime": self = .createTime
        case "LogAppendTime": self = .logAppendTime
        default: return nil
        }
    }

    public var kafkaValue: String { self == .createTime ? "CreateTime" : "LogAppendTime" }
}

/// A rejected topic-level configuration entry.
public enum LogConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The key is not a Kafka topic-level configuration key.
    case unknownKey(String)
    /// The value does not parse or is outside the allowed range.
    case invalidValue(key: String, value: String, reason: String)

    public var description: String {
        switch self {
        case let .unknownKey(key): "unknown topic config key '\(key)'"
        case let .invalidValue(key, value, reason): "invalid value '\(value)' for \(key): \(reason)"
        }
    }
}

/// Per-log settings. Property comments give the Kafka topic-level key; defaults are Kafka's (KAFKA-FORMATS §11).
///
/// Keys that Kafka accepts but a single node does not act on (replication, remote storage, ...) are kept
/// verbatim in `passiveProperties` so `DescribeConfigs` can echo them.
public struct LogConfig: Sendable, Hashable {
    /// `segment.bytes`: roll when the active segment would exceed this many bytes. Range [14, Int32.max].
    public var segmentBytes: Int = 1_073_741_824
    /// `segment.ms`: roll when the active segment's records span more than this many ms.
    public var segmentMs: Int64 = 604_800_000
    /// `segment.index.bytes`: preallocated size of each offset/time index file, in bytes.
    public var segmentIndexBytes: Int = 10_485_760
    /// `index.interval.bytes`: bytes appended between two sparse index entries.
    public var indexIntervalBytes: Int = 4096
    /// `flush.messages`: ask for an fsync after this many unflushed records.
    public var flushMessages: Int64 = Int64.max
    /// `flush.ms`: ask for an fsync when the last one is older than this many ms.
    public var flushMs: Int64 = Int64.max
    /// `retention.ms`: delete segments whose newest record is older than this (ms); -1 keeps forever.
    public var retentionMs: Int64 = 604_800_000
    /// `retention.bytes`: delete oldest segments while the partition is larger than this (bytes); -1 unlimited.
    public var retentionBytes: Int64 = -1
    /// `cleanup.policy`.
    public var cleanupPolicy: CleanupPolicy = .delete
    /// `max.message.bytes`: the largest batch accepted, in bytes.
    public var maxMessageBytes: Int = 1_048_588
    /// `message.timestamp.type`.
    public var messageTimestampType: TimestampType = .createTime
    /// `preallocate`: accepted and reported, but Runnel never preallocates `.log` files.
    public var preallocate: Bool = false
    /// `file.delete.delay.ms`: Runnel unlinks `.deleted` files at once (open readers keep their fds), so this is
    /// only reported.
    public var fileDeleteDelayMs: Int64 = 60_000
    /// `delete.retention.ms`: how long tombstones survive compaction (ms).
    public var deleteRetentionMs: Int64 = 86_400_000
    /// `min.cleanable.dirty.ratio`.
    public var minCleanableDirtyRatio: Double = 0.5
    /// `min.compaction.lag.ms`.
    public var minCompactionLagMs: Int64 = 0
    /// `max.compaction.lag.ms`.
    public var maxCompactionLagMs: Int64 = Int64.max
    /// `compression.type`: "producer", "uncompressed", "gzip", "snappy", "lz4" or "zstd".
    public var compressionType: String = "producer"
    /// `message.timestamp.before.max.ms` (checked by the broker, which decodes records).
    public var messageTimestampBeforeMaxMs: Int64 = Int64.max
    /// `message.timestamp.after.max.ms` (checked by the broker, which decodes records).
    public var messageTimestampAfterMaxMs: Int64 = Int64.max
    /// Accepted Kafka keys with no effect on a single node, by key.
    public var passiveProperties: [String: String] = [:]

    /// All Kafka defaults.
    public init() {}

    /// Keys Kafka accepts at topic level that a single node stores but does not act on, with Kafka's defaults.
    public static let passiveDefaults: [String: String] = [
        "segment.jitter.ms": "0",
        "min.insync.replicas": "1",
        "unclean.leader.election.enable": "false",
        "message.timestamp.difference.max.ms": "9223372036854775807",
        "message.downconversion.enable": "true",
        "follower.replication.throttled.replicas": "",
        "leader.replication.throttled.replicas": "",
        "local.retention.ms": "-2",
        "local.retention.bytes": "-2",
        "remote.storage.enable": "false",
        "compression.gzip.level": "-1",
        "compression.lz4.level": "9",
        "compression.zstd.level": "3",
    ]

    /// The codec names `compression.type` accepts.
    public static let compressionTypes: Set<String> = ["producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"]

    /// Applies Kafka topic-level keys (`"segment.bytes": "1048576"`, ...). Either every entry applies or, on the
    /// first bad one, `self` is left unchanged.
    /// - Throws: `LogConfigError.unknownKey` or `.invalidValue`.
    public mutating func apply(_ overrides: [String: String]) throws(LogConfigError) {
        var copy = self
        for (key, value) in overrides.sorted(by: { $0.key < $1.key }) {
            try copy.applyOne(key: key, value: value)
        }
        self = copy
    }

    /// The effective value of every topic-level key as Kafka names it, sorted by key.
    public var kafkaProperties: [(key: String, value: String)] {
        var all: [String: String] = Self.passiveDefaults.merging(passiveProperties) { _, new in new }
        all["segment.bytes"] = String(segmentBytes)
        all["segment.ms"] = String(segmentMs)
        all["segment.index.bytes"] = String(segmentIndexBytes)
        all["index.interval.bytes"] = String(indexIntervalBytes)
        all["flush.messages"] = String(flushMessages)
        all["flush.ms"] = String(flushMs)
        all["retention.ms"] = String(retentionMs)
        all["retention.bytes"] = String(retentionBytes)
        all["cleanup.policy"] = cleanupPolicy.kafkaValue
        all["max.message.bytes"] = String(maxMessageBytes)
        all["message.timestamp.type"] = messageTimestampType.kafkaValue
        all["preallocate"] = String(preallocate)
        all["file.delete.delay.ms"] = String(fileDeleteDelayMs)
        all["delete.retention.ms"] = String(deleteRetentionMs)
        all["min.cleanable.dirty.ratio"] = String(minCleanableDirtyRatio)
        all["min.compaction.lag.ms"] = String(minCompactionLagMs)
        all["max.compaction.lag.ms"] = String(maxCompactionLagMs)
        all["compression.type"] = compressionType
        all["message.timestamp.before.max.ms"] = String(messageTimestampBeforeMaxMs)
        all["message.timestamp.after.max.ms"] = String(messageTimestampAfterMaxMs)
        return all.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
    }

    /// The `segment.ms` that applies to rolling: `min(segment.ms, max.compaction.lag.ms)` for compacted logs.
    var effectiveSegmentMs: Int64 {
        cleanupPolicy.compacts ? min(segmentMs, maxCompactionLagMs) : segmentMs
    }

    // MARK: - Parsing

    private mutating func applyOne(key: String, value: String) throws(LogConfigError) {
        switch key {
        case "segment.bytes": segmentBytes = Int(try Self.long(key, value, in: 14...Int64(Int32.max)))
        case "segment.ms": segmentMs = try Self.long(key, value, in: 1...Int64.max)
        case "segment.index.bytes": segmentIndexBytes = Int(try Self.long(key, value, in: 4...Int64(Int32.max)))
        case "index.interval.bytes": indexIntervalBytes = Int(try Self.long(key, value, in: 0...Int64(Int32.max)))
        case "flush.messages": flushMessages = try Self.long(key, value, in: 1...Int64.max)
        case "flush.ms": flushMs = try Self.long(key, value, in: 0...Int64.max)
        case "retention.ms": retentionMs = try Self.long(key, value, in: -1...Int64.max)
        case "retention.bytes": retentionBytes = try Self.long(key, value, in: Int64.min...Int64.max)
        case "cleanup.policy":
            guard let policy = CleanupPolicy(kafkaValue: value) else {
                throw .invalidValue(key: key, value: value, reason: "expected delete, compact or compact,delete")
            }
            cleanupPolicy = policy
        case "max.message.bytes": maxMessageBytes = Int(try Self.long(key, value, in: 0...Int64(Int32.max)))
        case "message.timestamp.type":
            guard let type = TimestampType(kafkaValue: value) else {
                throw .invalidValue(key: key, value: value, reason: "expected CreateTime or LogAppendTime")
            }
            messageTimestampType = type
        case "preallocate":
            switch value.lowercased() {
            case "true": preallocate = true
            case "false": preallocate = false
            default: throw .invalidValue(key: key, value: value, reason: "expected true or false")
            }
        case "file.delete.delay.ms": fileDeleteDelayMs = try Self.long(key, value, in: 0...Int64.max)
        case "delete.retention.ms": deleteRetentionMs = try Self.long(key, value, in: 0...Int64.max)
        case "min.cleanable.dirty.ratio":
            guard let ratio = Double(value), ratio >= 0, ratio <= 1 else {
                throw .invalidValue(key: key, value: value, reason: "expected a number in [0, 1]")
            }
            minCleanableDirtyRatio = ratio
        case "min.compaction.lag.ms": minCompactionLagMs = try Self.long(key, value, in: 0...Int64.max)
        case "max.compaction.lag.ms": maxCompactionLagMs = try Self.long(key, value, in: 1...Int64.max)
        case "compression.type":
            guard Self.compressionTypes.contains(value) else {
                throw .invalidValue(key: key, value: value, reason: "expected one of \(Self.compressionTypes.sorted())")
            }
            compressionType = value
        case "message.timestamp.before.max.ms":
            messageTimestampBeforeMaxMs = try Self.long(key, value, in: 0...Int64.max)
        case "message.timestamp.after.max.ms":
            messageTimestampAfterMaxMs = try Self.long(key, value, in: 0...Int64.max)
        default:
            guard Self.passiveDefaults[key] != nil else { throw .unknownKey(key) }
            passiveProperties[key] = value
        }
    }

    private static func long(_ key: String, _ value: String, in range: ClosedRange<Int64>) throws(LogConfigError)
        -> Int64
    {
        guard let parsed = Int64(value.trimmingSpaces) else {
            throw .invalidValue(key: key, value: value, reason: "not an integer")
        }
        guard range.contains(parsed) else {
            throw .invalidValue(key: key, value: value, reason: "must be in \(range.lowerBound)...\(range.upperBound)")
        }
        return parsed
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces/tabs (Foundation-free).
    var trimmingSpaces: String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
