/// Settings of ``KafkaGroupConsumer``, named after the Java client's.
public struct GroupConfiguration: Sendable {
    /// `session.timeout.ms`: the coordinator drops a member it has not heard from for this long.
    public var sessionTimeoutMs: Int32 = 10_000
    /// `max.poll.interval.ms` as the rebalance timeout: how long a rebalance waits for members to rejoin.
    public var rebalanceTimeoutMs: Int32 = 30_000
    /// `heartbeat.interval.ms`.
    public var heartbeatIntervalMs: Int64 = 3_000
    /// The assignors offered, preferred first (`partition.assignment.strategy`).
    public var assignors: [PartitionAssignor] = [.range, .roundrobin]
    /// `auto.offset.reset`: where a partition without a committed offset starts (earliest or latest).
    public var startWithoutCommit: StartOffset = .latest
    /// Fetch settings of the underlying partition reader.
    public var consumer = ConsumerConfiguration()

    public init() {}
}
