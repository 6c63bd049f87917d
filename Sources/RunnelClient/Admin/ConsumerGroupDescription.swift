/// One group as ListGroups reports it.
public struct ConsumerGroupListing: Sendable, Equatable {
    public var groupId: String
    /// Kafka's state name (`Empty`, `Stable`, `PreparingRebalance`, `CompletingRebalance`, `Dead`);
    /// "" when the broker answers ListGroups below v4, which has no state.
    public var state: String
    /// `consumer` for consumer groups; "" for a group created by offset commits alone.
    public var protocolType: String

    public init(groupId: String, state: String, protocolType: String) {
        self.groupId = groupId
        self.state = state
        self.protocolType = protocolType
    }
}

/// One member of a group as DescribeGroups reports it.
public struct ConsumerGroupMember: Sendable, Equatable {
    public var memberId: String
    /// The static member's `group.instance.id`, if any.
    public var groupInstanceId: String?
    public var clientId: String
    /// The member's host as the coordinator saw it ("" when the broker does not record it).
    public var clientHost: String
    /// Partitions assigned in the current generation, sorted. Empty unless the group is Stable and uses the
    /// `consumer` protocol (other protocols' assignments are opaque).
    public var assignment: [TopicPartition]

    public init(
        memberId: String, groupInstanceId: String?, clientId: String, clientHost: String, assignment: [TopicPartition]
    ) {
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.clientId = clientId
        self.clientHost = clientHost
        self.assignment = assignment
    }
}

/// One group as DescribeGroups reports it.
public struct ConsumerGroupDescription: Sendable, Equatable {
    public var groupId: String
    /// Kafka's state name; `Dead` for a group the coordinator does not know.
    public var state: String
    /// `consumer` for consumer groups; "" for a group with only committed offsets.
    public var protocolType: String
    /// The chosen protocol, i.e. the assignor for consumer groups (`range`, `roundrobin`, ...); "" unless Stable.
    public var protocolName: String
    /// Members in join order.
    public var members: [ConsumerGroupMember]

    public init(
        groupId: String, state: String, protocolType: String, protocolName: String, members: [ConsumerGroupMember]
    ) {
        self.groupId = groupId
        self.state = state
        self.protocolType = protocolType
        self.protocolName = protocolName
        self.members = members
    }

    /// Whether the group has no live members, so its offsets may be reset and it may be deleted
    /// (Kafka's rule: state `Empty` or `Dead`).
    public var isInactive: Bool { state == "Empty" || state == "Dead" }

    /// The member a partition is assigned to, by member id.
    public var owners: [TopicPartition: String] {
        var result: [TopicPartition: String] = [:]
        for member in members {
            for tp in member.assignment { result[tp] = member.memberId }
        }
        return result
    }
}

/// A group's position in one partition, as `runnel groups describe` shows it.
public struct ConsumerGroupPartitionLag: Sendable, Equatable {
    public var topicPartition: TopicPartition
    /// The group's committed offset (the next offset it will read); nil when it has none.
    public var committedOffset: Int64?
    /// The partition's log end offset (high watermark).
    public var logEndOffset: Int64
    /// Member id of the member the partition is assigned to, if any.
    public var owner: String?

    public init(topicPartition: TopicPartition, committedOffset: Int64?, logEndOffset: Int64, owner: String?) {
        self.topicPartition = topicPartition
        self.committedOffset = committedOffset
        self.logEndOffset = logEndOffset
        self.owner = owner
    }

    /// `logEndOffset - committedOffset`, as Kafka computes it (negative if the commit lies past the log end,
    /// e.g. after the topic was re-created); nil without a committed offset.
    public var lag: Int64? { committedOffset.map { logEndOffset &- $0 } }
}
