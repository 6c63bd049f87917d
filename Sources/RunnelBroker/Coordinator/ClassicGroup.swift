import NIOCore
import RunnelProtocol
import RunnelStorage

/// A committed offset of one partition, as stored in an OffsetCommitValue (KAFKA-FORMATS §8.9).
struct CommittedOffset: Sendable, Equatable {
    var offset: Int64
    /// -1 when unknown.
    var leaderEpoch: Int32
    /// Never nil: a null commit metadata is stored as "".
    var metadata: String
    /// ms since the epoch.
    var commitTimestampMs: Int64
    /// ms since the epoch, only for commits that carried a retention time (OffsetCommit v2–v4).
    var expireTimestampMs: Int64?
}

/// A classic consumer group (Kafka's `ClassicGroup`): its state, generation, members and committed offsets.
///
/// Not `Sendable`: only the `GroupCoordinator` actor touches it. The rebalance *protocol* (barriers, timeouts,
/// persistence) lives in the coordinator; this type keeps the bookkeeping and its invariants:
/// - `memberOrder` lists exactly the keys of `members`, oldest first (the leader fallback is the oldest member);
/// - `staticMembers` maps each static member's instance id to its current member id;
/// - `leaderId` is nil iff `members` is empty, else names a member.
final class ClassicGroup {
    let groupId: String
    private(set) var state: ClassicGroupState = .empty
    /// When the group entered `state`, ms since the epoch (GroupMetadataValue.current_state_timestamp).
    private(set) var stateTimestampMs: Int64
    /// 0 for a new group; +1 at every completed join phase.
    var generationId: Int32 = 0
    /// Set by the first member (nil for groups used only for offset storage).
    var protocolType: String?
    /// The protocol chosen for the current generation.
    var protocolName: String?
    private(set) var leaderId: String?
    private(set) var members: [String: ClassicGroupMember] = [:]
    private(set) var memberOrder: [String] = []
    private(set) var staticMembers: [String: String] = [:]
    /// Member ids handed out with MEMBER_ID_REQUIRED and not yet used, with their expiry (ms since the epoch).
    var pendingMembers: [String: Int64] = [:]
    /// Committed offsets.
    var offsets: [TopicPartition: CommittedOffset] = [:]
    /// Topics the members subscribe to (from ConsumerProtocolSubscription), nil when unknown (not "consumer" or
    /// unparsable metadata). Computed at every generation.
    private(set) var subscribedTopics: Set<String>?

    // MARK: Rebalance bookkeeping (driven by the coordinator)

    /// When the current join phase ends at the latest, ms since the epoch (PreparingRebalance only).
    var joinDeadlineMs: Int64?
    /// While the group leaves Empty: the join phase waits the initial delay even when everybody joined.
    var initialDelayActive = false
    /// Budget left for extending the initial delay, ms.
    var initialDelayRemainingMs: Int64 = 0
    /// A member joined during the initial delay: extend it once more.
    var newMemberAdded = false
    /// Members that must still send SyncGroup for the current generation, and the deadline for it.
    var pendingSyncMembers: Set<String> = []
    var syncDeadlineMs: Int64?

    init(groupId: String, nowMs: Int64) {
        self.groupId = groupId
        self.stateTimestampMs = nowMs
    }

    // MARK: - Queries

    var isEmpty: Bool { members.isEmpty }
    var orderedMembers: [ClassicGroupMember] { memberOrder.compactMap { members[$0] } }
    func member(_ memberId: String) -> ClassicGroupMember? { members[memberId] }
    func has(member memberId: String) -> Bool { members[memberId] != nil }
    func isLeader(_ memberId: String) -> Bool { leaderId == memberId }
    func staticMemberId(for instanceId: String) -> String? { staticMembers[instanceId] }
    var allMembersAwaitingJoin: Int { members.values.count { $0.isAwaitingJoin } }

    /// Kafka's `hasAllMembersJoined`: everyone rejoined and no MEMBER_ID_REQUIRED id is outstanding.
    var hasAllMembersJoined: Bool { allMembersAwaitingJoin == members.count && pendingMembers.isEmpty }

    /// The largest rebalance timeout of the members, ms (the join phase's length).
    var rebalanceTimeoutMs: Int64 {
        Int64(members.values.map(\.rebalanceTimeoutMs).max() ?? 0)
    }

    /// Whether a request carrying (`memberId`, `instanceId`) is from a replaced static member.
    func isStaticMemberFenced(memberId: String, instanceId: String?) -> Bool {
        guard let instanceId, let current = staticMembers[instanceId] else { return false }
        return current != memberId
    }

    /// Kafka's `validateMember`: FENCED_INSTANCE_ID for a replaced static member, UNKNOWN_MEMBER_ID when absent.
    func validateMember(memberId: String, instanceId: String?) -> GroupErrorCode {
        if let instanceId {
            guard let current = staticMembers[instanceId] else { return .unknownMemberId }
            if current != memberId { return .fencedInstanceId }
        }
        return members[memberId] == nil ? .unknownMemberId : .none
    }

    /// Protocol names every member supports (with counts), Kafka's `supportedProtocols`.
    private var protocolSupportCounts: [String: Int] {
        var counts: [String: Int] = [:]
        for member in members.values {
            for name in Set(member.protocols.map(\.name)) { counts[name, default: 0] += 1 }
        }
        return counts
    }

    /// Whether a member with these protocols may join: same protocol type as the group and at least one protocol
    /// every current member also supports (KAFKA-FORMATS §8.3, INCONSISTENT_GROUP_PROTOCOL otherwise).
    func supportsProtocols(type: String, protocols: [GroupProtocol]) -> Bool {
        if members.isEmpty { return !type.isEmpty && !protocols.isEmpty }
        guard protocolType == type else { return false }
        let counts = protocolSupportCounts
        return protocols.contains { counts[$0.name] == members.count }
    }

    /// Kafka's `selectProtocol`: candidates are protocols every member supports; each member votes for its first
    /// candidate; most votes wins, ties going to the candidate the oldest member prefers. Nil without members.
    func selectProtocol() -> String? {
        let ordered = orderedMembers
        guard let first = ordered.first else { return nil }
        let counts = protocolSupportCounts
        let candidates = Set(counts.filter { $0.value == members.count }.keys)
        guard !candidates.isEmpty else { return nil }
        var votes: [String: Int] = [:]
        for member in ordered {
            if let vote = member.protocols.first(where: { candidates.contains($0.name) }) {
                votes[vote.name, default: 0] += 1
            }
        }
        let best = votes.values.max() ?? 0
        let preference = first.protocols.map(\.name).filter { candidates.contains($0) }
        return preference.first { votes[$0, default: 0] == best } ?? preference.first
    }

    /// Whether `topic` is among the members' subscriptions (OffsetDelete, offset expiry).
    func isSubscribed(to topic: String) -> Bool { subscribedTopics?.contains(topic) ?? false }

    // MARK: - Mutations

    /// Moves to `newState`, stamping the time.
    /// - Precondition: Kafka's transition table allows it (a coordinator bug otherwise).
    func transition(to newState: ClassicGroupState, nowMs: Int64) {
        precondition(
            newState.validPreviousStates.contains(state), "illegal group transition \(state) -> \(newState)")
        state = newState
        stateTimestampMs = nowMs
    }

    /// Restores the persisted state of a loaded group (no transition check: replay sets it directly).
    func restore(state: ClassicGroupState, stateTimestampMs: Int64) {
        self.state = state
        self.stateTimestampMs = stateTimestampMs
    }

    /// Adds a member; the first member sets the protocol type and becomes leader if there is none.
    func add(_ member: ClassicGroupMember) {
        precondition(members[member.memberId] == nil, "member added twice")
        if members.isEmpty { protocolType = member.protocolType }
        members[member.memberId] = member
        memberOrder.append(member.memberId)
        if leaderId == nil { leaderId = member.memberId }
        if let instanceId = member.groupInstanceId { staticMembers[instanceId] = member.memberId }
        pendingMembers[member.memberId] = nil
    }

    /// Removes a member (its waiters must already be resumed); the oldest remaining member becomes leader if the
    /// leader left.
    func remove(memberId: String) {
        guard let member = members.removeValue(forKey: memberId) else { return }
        precondition(!member.isAwaitingJoin && !member.isAwaitingSync, "removing a member with a parked request")
        memberOrder.removeAll { $0 == memberId }
        if let instanceId = member.groupInstanceId, staticMembers[instanceId] == memberId {
            staticMembers[instanceId] = nil
        }
        pendingSyncMembers.remove(memberId)
        if leaderId == memberId { leaderId = memberOrder.first }
    }

    /// Gives a static member a new member id (KIP-345 replacement), keeping its place, leadership and assignment.
    func replaceStaticMember(oldMemberId: String, with newMemberId: String) {
        guard let member = members.removeValue(forKey: oldMemberId) else { return }
        member.memberId = newMemberId
        members[newMemberId] = member
        if let index = memberOrder.firstIndex(of: oldMemberId) { memberOrder[index] = newMemberId }
        if let instanceId = member.groupInstanceId { staticMembers[instanceId] = newMemberId }
        if leaderId == oldMemberId { leaderId = newMemberId }
        if pendingSyncMembers.remove(oldMemberId) != nil { pendingSyncMembers.insert(newMemberId) }
    }

    /// Makes the first member that is waiting in the join phase leader if the current leader is not waiting
    /// (Kafka's `maybeElectNewJoinedLeader`). Returns false when no member is waiting.
    func electJoinedLeader() -> Bool {
        if let leaderId, members[leaderId]?.isAwaitingJoin == true { return true }
        guard let joined = orderedMembers.first(where: { $0.isAwaitingJoin }) else { return false }
        leaderId = joined.memberId
        return true
    }

    /// Starts the next generation (Kafka's `initNextGeneration`): generation + 1; with members, the protocol is
    /// chosen and the group moves to CompletingRebalance, else it becomes Empty.
    func initNextGeneration(nowMs: Int64) {
        generationId &+= 1
        if members.isEmpty {
            protocolName = nil
            subscribedTopics = nil
            transition(to: .empty, nowMs: nowMs)
        } else {
            protocolName = selectProtocol()
            subscribedTopics = computeSubscribedTopics()
            transition(to: .completingRebalance, nowMs: nowMs)
        }
    }

    /// Loads members from a GroupMetadata record (replay).
    func restoreMembers(_ loaded: [ClassicGroupMember], leaderId: String?) {
        members = [:]
        memberOrder = []
        staticMembers = [:]
        for member in loaded where members[member.memberId] == nil {
            members[member.memberId] = member
            memberOrder.append(member.memberId)
            if let instanceId = member.groupInstanceId { staticMembers[instanceId] = member.memberId }
        }
        if let leaderId, members[leaderId] != nil {
            self.leaderId = leaderId
        } else {
            self.leaderId = memberOrder.first
        }
        subscribedTopics = computeSubscribedTopics()
    }

    /// The subscribed topics of all members for the chosen protocol, if the group speaks "consumer" and every
    /// member's metadata parses (Kafka's `computeSubscribedTopics`).
    private func computeSubscribedTopics() -> Set<String>? {
        guard protocolType == "consumer", let protocolName, !members.isEmpty else { return nil }
        var topics = Set<String>()
        for member in members.values {
            guard let metadata = member.metadata(for: protocolName),
                let decoded = try? ConsumerProtocolSubscription.decodeVersionPrefixed(from: metadata)
            else { return nil }
            topics.formUnion(decoded.value.topics)
        }
        return topics
    }
}
