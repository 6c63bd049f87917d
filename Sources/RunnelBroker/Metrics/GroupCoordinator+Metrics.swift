import RunnelStorage

/// What a scrape needs of one consumer group.
struct GroupMetricsSnapshot: Sendable {
    var groupId: String
    /// Members now (0 for groups that only store offsets).
    var members: Int
    /// Committed offset per partition.
    var committed: [TopicPartition: Int64]
}

extension GroupCoordinator {
    /// Every group that is not Dead, with its member count and committed offsets (for `runnel_group_*`).
    /// Copies a few integers per group on the actor; the lag arithmetic runs in the caller.
    func metricsSnapshot() -> [GroupMetricsSnapshot] {
        groups.values.compactMap { group in
            guard group.state != .dead else { return nil }
            return GroupMetricsSnapshot(
                groupId: group.groupId, members: group.members.count,
                committed: group.offsets.mapValues(\.offset))
        }
    }
}
