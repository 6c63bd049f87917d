/// Kafka's classic client-side partition assignors, as the group leader runs them after JoinGroup.
///
/// Both are deterministic: members are ordered by member id and partitions by (topic, index), so every client
/// (Java's `RangeAssignor`/`RoundRobinAssignor`, librdkafka's `range`/`roundrobin`) computes the same result.
public enum PartitionAssignor: String, Sendable, CaseIterable {
    /// Per topic: consecutive partition ranges, the first `n % m` members getting one extra.
    case range
    /// All subscribed partitions dealt out one by one to the members subscribed to each topic.
    case roundrobin

    /// The protocol name sent in JoinGroup.
    public var protocolName: String { rawValue }

    /// Assigns `partitionCounts` (topic → partition count) to members (member id → subscribed topics).
    /// Every member appears in the result, possibly with nothing assigned.
    public func assign(members: [String: Set<String>], partitionCounts: [String: Int32]) -> [String: [TopicPartition]] {
        var result: [String: [TopicPartition]] = [:]
        for member in members.keys { result[member] = [] }
        let memberIds = members.keys.sorted()
        switch self {
        case .range:
            for topic in partitionCounts.keys.sorted() {
                let subscribers = memberIds.filter { members[$0]?.contains(topic) ?? false }
                guard !subscribers.isEmpty, let count = partitionCounts[topic], count > 0 else { continue }
                let perMember = Int(count) / subscribers.count
                let extra = Int(count) % subscribers.count
                for (index, member) in subscribers.enumerated() {
                    let start = index * perMember + min(index, extra)
                    let length = perMember + (index < extra ? 1 : 0)
                    for partition in start..<(start + length) {
                        result[member, default: []].append(TopicPartition(topic: topic, partition: Int32(partition)))
                    }
                }
            }
        case .roundrobin:
            guard !memberIds.isEmpty else { return result }
            var next = 0
            for topic in partitionCounts.keys.sorted() {
                for partition in 0..<(partitionCounts[topic] ?? 0) {
                    // The next member in circular order that subscribes to this topic.
                    for step in 0..<memberIds.count {
                        let member = memberIds[(next + step) % memberIds.count]
                        if members[member]?.contains(topic) ?? false {
                            result[member, default: []].append(TopicPartition(topic: topic, partition: partition))
                            next = (next + step + 1) % memberIds.count
                            break
                        }
                    }
                }
            }
        }
        return result
    }
}
