/// Settings of the classic group coordinator, Kafka broker key names in the comments (KAFKA-FORMATS §11).
///
/// All durations are milliseconds. Defaults are Kafka's.
struct GroupCoordinatorConfig: Sendable, Hashable {
    /// `offsets.topic.num.partitions`: partitions of `__consumer_offsets`; fixed once the topic exists.
    var offsetsTopicPartitions: Int32 = 50
    /// `offsets.topic.segment.bytes`.
    var offsetsTopicSegmentBytes: Int = 104_857_600
    /// `offsets.retention.minutes`, as ms (10080 min = 7 days).
    var offsetsRetentionMs: Int64 = 10080 * 60_000
    /// `offsets.retention.check.interval.ms`.
    var offsetsRetentionCheckIntervalMs: Int64 = 600_000
    /// `offset.metadata.max.bytes`: longest commit metadata string, UTF-8 bytes.
    var offsetMetadataMaxBytes: Int = 4096
    /// `group.min.session.timeout.ms`.
    var minSessionTimeoutMs: Int32 = 6000
    /// `group.max.session.timeout.ms`.
    var maxSessionTimeoutMs: Int32 = 1_800_000
    /// `group.initial.rebalance.delay.ms`: how long a group leaving Empty waits for more members.
    var initialRebalanceDelayMs: Int32 = 3000
    /// `group.max.size`: most members a classic group may have.
    var maxGroupSize: Int = Int(Int32.max)
    /// How long a brand-new member (not yet in any generation) may wait in a join phase before it is dropped.
    /// Kafka's `classicGroupNewMemberJoinTimeoutMs` (5 minutes): sockets are shared, so a vanished new member is
    /// detected only by this.
    var newMemberJoinTimeoutMs: Int64 = 300_000
    /// How often `runTimers()` checks deadlines. Deadlines fire up to this late.
    var timerTickMs: Int64 = 100

    init() {}
}

extension GroupCoordinatorConfig {
    /// Reads the group and offsets keys of a broker configuration (invalid numbers keep the default).
    init(brokerConfiguration configuration: BrokerConfiguration) {
        self.init()
        func int64(_ key: String) -> Int64? { configuration.value(of: key).flatMap { Int64($0.trimmingBlanks) } }
        func int32(_ key: String) -> Int32? { configuration.value(of: key).flatMap { Int32($0.trimmingBlanks) } }
        if let value = int32("offsets.topic.num.partitions"), value > 0 { offsetsTopicPartitions = value }
        if let value = int64("offsets.topic.segment.bytes"), value > 0, let bytes = Int(exactly: value) {
            offsetsTopicSegmentBytes = bytes
        }
        if let minutes = int64("offsets.retention.minutes"), minutes > 0 {
            let (ms, overflow) = minutes.multipliedReportingOverflow(by: 60_000)
            offsetsRetentionMs = overflow ? Int64.max : ms
        }
        if let value = int64("offsets.retention.check.interval.ms"), value > 0 {
            offsetsRetentionCheckIntervalMs = value
        }
        if let value = int64("offset.metadata.max.bytes"), value >= 0, let bytes = Int(exactly: value) {
            offsetMetadataMaxBytes = bytes
        }
        if let value = int32("group.min.session.timeout.ms"), value >= 0 { minSessionTimeoutMs = value }
        if let value = int32("group.max.session.timeout.ms"), value >= 0 { maxSessionTimeoutMs = value }
        if let value = int32("group.initial.rebalance.delay.ms"), value >= 0 { initialRebalanceDelayMs = value }
        if let value = int64("group.max.size"), value >= 1, let size = Int(exactly: value) { maxGroupSize = size }
    }
}
