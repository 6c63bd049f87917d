import NIOCore
import RunnelProtocol

// JoinGroup (KAFKA-FORMATS §8.3, §8.6) and the rebalance machinery shared by every API: preparing a rebalance,
// completing the join phase, removing members.
extension GroupCoordinator {
    /// Handles JoinGroup v0–9. Parks the request until the join phase completes, unless it can be answered at
    /// once (errors, MEMBER_ID_REQUIRED, a member rejoining a Stable group unchanged, a static member replacing
    /// itself in a Stable group).
    /// - Parameters:
    ///   - clientId: the request header's client id (prefix of new dynamic member ids).
    ///   - clientHost: the client's address as Kafka reports it (e.g. "/127.0.0.1").
    func handleJoinGroup(
        _ request: JoinGroupRequest, version: Int16, clientId: String, clientHost: String
    ) async -> JoinGroupResponse {
        if let error = unavailableError { return Self.joinError(error, memberId: request.memberId) }
        let now = clock()
        guard !request.groupId.isEmpty else { return Self.joinError(.invalidGroupId, memberId: request.memberId) }
        guard request.sessionTimeoutMs >= config.minSessionTimeoutMs,
            request.sessionTimeoutMs <= config.maxSessionTimeoutMs
        else {
            return Self.joinError(.invalidSessionTimeout, memberId: request.memberId)
        }
        let existing = groups[request.groupId]
        if existing == nil, !request.memberId.isEmpty {
            return Self.joinError(.unknownMemberId, memberId: request.memberId)
        }
        let group = existing ?? ClassicGroup(groupId: request.groupId, nowMs: now)
        if group.state == .dead { return Self.joinError(.coordinatorNotAvailable, memberId: request.memberId) }
        let join = JoinParameters(request: request, version: version, clientId: clientId, clientHost: clientHost)
        guard group.supportsProtocols(type: join.protocolType, protocols: join.protocols) else {
            return Self.joinError(.inconsistentGroupProtocol, memberId: request.memberId)
        }
        if request.memberId.isEmpty {
            return await joinNewMember(group, join, nowMs: now)
        }
        return await joinExistingMember(group, join, nowMs: now)
    }

    // MARK: - Join paths

    private func joinNewMember(_ group: ClassicGroup, _ join: JoinParameters, nowMs: Int64) async -> JoinGroupResponse {
        if let instanceId = join.groupInstanceId, let oldMemberId = group.staticMemberId(for: instanceId) {
            return await replaceStaticMemberThenRejoin(group, oldMemberId: oldMemberId, join, nowMs: nowMs)
        }
        guard acceptsNewMember(group) else { return Self.joinError(.groupMaxSizeReached, memberId: "") }
        if let instanceId = join.groupInstanceId {
            let memberId = MemberIdGenerator.memberId(prefix: instanceId)
            return await addMemberThenRejoin(group, memberId: memberId, join, nowMs: nowMs)
        }
        let memberId = MemberIdGenerator.memberId(prefix: join.clientId)
        if join.version >= 4 {
            // KIP-394: hand out the id first; the member becomes real when it rejoins with it.
            group.pendingMembers[memberId] = nowMs + Int64(join.sessionTimeoutMs)
            groups[group.groupId] = group
            var response = Self.joinError(.memberIdRequired, memberId: memberId)
            response.memberId = memberId
            return response
        }
        return await addMemberThenRejoin(group, memberId: memberId, join, nowMs: nowMs)
    }

    private func joinExistingMember(
        _ group: ClassicGroup, _ join: JoinParameters, nowMs: Int64
    ) async -> JoinGroupResponse {
        let memberId = join.memberId
        if group.pendingMembers[memberId] != nil {
            guard acceptsNewMember(group) else { return Self.joinError(.groupMaxSizeReached, memberId: memberId) }
            return await addMemberThenRejoin(group, memberId: memberId, join, nowMs: nowMs)
        }
        let validation = group.validateMember(memberId: memberId, instanceId: join.groupInstanceId)
        guard validation == .none, let member = group.member(memberId) else {
            return Self.joinError(validation == .none ? .unknownMemberId : validation, memberId: memberId)
        }
        switch group.state {
        case .preparingRebalance:
            return await updateMemberThenRejoin(group, member, join, nowMs: nowMs)
        case .completingRebalance:
            if member.hasSameProtocols(as: join.protocols) {
                // The member lost its JoinGroup response: hand it the current generation again.
                member.touch(nowMs: nowMs)
                return joinResponse(group, for: member, version: join.version)
            }
            return await updateMemberThenRejoin(group, member, join, nowMs: nowMs)
        case .stable:
            if group.isLeader(memberId) || !member.hasSameProtocols(as: join.protocols) {
                // A leader's rejoin forces a rebalance (its view of topic metadata may have changed).
                return await updateMemberThenRejoin(group, member, join, nowMs: nowMs)
            }
            member.touch(nowMs: nowMs)
            return joinResponse(group, for: member, version: join.version)
        case .empty, .dead:
            return Self.joinError(.unknownMemberId, memberId: memberId)
        }
    }

    /// Kafka's `acceptJoiningMember` for a member not yet in the group.
    private func acceptsNewMember(_ group: ClassicGroup) -> Bool {
        switch group.state {
        case .empty, .dead: true
        case .preparingRebalance: group.allMembersAwaitingJoin < config.maxGroupSize
        case .completingRebalance, .stable: group.members.count < config.maxGroupSize
        }
    }

    private func addMemberThenRejoin(
        _ group: ClassicGroup, memberId: String, _ join: JoinParameters, nowMs: Int64
    ) async -> JoinGroupResponse {
        let member = ClassicGroupMember(
            memberId: memberId, groupInstanceId: join.groupInstanceId, clientId: join.clientId,
            clientHost: join.clientHost, rebalanceTimeoutMs: join.rebalanceTimeoutMs,
            sessionTimeoutMs: join.sessionTimeoutMs, protocolType: join.protocolType, protocols: join.protocols,
            nowMs: nowMs)
        if group.state == .preparingRebalance, group.initialDelayActive { group.newMemberAdded = true }
        groups[group.groupId] = group
        return await withCheckedContinuation { continuation in
            member.joinWaiter = JoinWaiter(version: join.version, continuation: continuation)
            group.add(member)
            logger.debug(
                "member joined", metadata: ["group": "\(group.groupId)", "member": "\(memberId)"])
            if group.state == .preparingRebalance {
                maybeCompleteJoin(group, nowMs: nowMs)
            } else {
                maybePrepareRebalance(group, reason: "adding member \(memberId)", nowMs: nowMs)
            }
        }
    }

    private func updateMemberThenRejoin(
        _ group: ClassicGroup, _ member: ClassicGroupMember, _ join: JoinParameters, nowMs: Int64
    ) async -> JoinGroupResponse {
        member.protocols = join.protocols
        member.rebalanceTimeoutMs = join.rebalanceTimeoutMs
        member.sessionTimeoutMs = join.sessionTimeoutMs
        member.touch(nowMs: nowMs)
        // A duplicate join supersedes the parked one; the client only waits for its latest request.
        member.resumeJoin { _ in Self.joinError(.rebalanceInProgress, memberId: member.memberId) }
        return await withCheckedContinuation { continuation in
            member.joinWaiter = JoinWaiter(version: join.version, continuation: continuation)
            if group.state == .preparingRebalance {
                maybeCompleteJoin(group, nowMs: nowMs)
            } else {
                maybePrepareRebalance(group, reason: "member \(member.memberId) rejoined", nowMs: nowMs)
            }
        }
    }

    /// KIP-345: a known `group.instance.id` joins with an empty member id. The old member id is fenced; in a
    /// Stable group with an unchanged protocol the new id takes over the current assignment without a rebalance.
    private func replaceStaticMemberThenRejoin(
        _ group: ClassicGroup, oldMemberId: String, _ join: JoinParameters, nowMs: Int64
    ) async -> JoinGroupResponse {
        guard let member = group.member(oldMemberId), let instanceId = join.groupInstanceId else {
            return Self.joinError(.unknownMemberId, memberId: "")
        }
        let newMemberId = MemberIdGenerator.memberId(prefix: instanceId)
        member.resumeJoin { _ in Self.joinError(.fencedInstanceId, memberId: oldMemberId) }
        member.resumeSync { _ in Self.syncError(.fencedInstanceId) }
        let previous = (member.protocols, member.rebalanceTimeoutMs, member.sessionTimeoutMs)
        group.replaceStaticMember(oldMemberId: oldMemberId, with: newMemberId)
        member.protocols = join.protocols
        member.rebalanceTimeoutMs = join.rebalanceTimeoutMs
        member.sessionTimeoutMs = join.sessionTimeoutMs
        member.touch(nowMs: nowMs)
        logger.info(
            "static member replaced",
            metadata: [
                "group": "\(group.groupId)", "instance": "\(instanceId)", "old.member": "\(oldMemberId)",
                "member": "\(newMemberId)",
            ])
        switch group.state {
        case .stable where group.selectProtocol() == group.protocolName:
            let error = storeGroupMetadata(group, nowMs: nowMs)
            guard error == .none else {
                group.replaceStaticMember(oldMemberId: newMemberId, with: oldMemberId)
                (member.protocols, member.rebalanceTimeoutMs, member.sessionTimeoutMs) = previous
                return Self.joinError(error, memberId: "")
            }
            var response = joinResponse(group, for: member, version: join.version)
            // v9: the rejoining static leader keeps the current assignment instead of computing a new one.
            if join.version >= 9, group.isLeader(newMemberId) { response.skipAssignment = true }
            return response
        case .stable, .completingRebalance, .preparingRebalance:
            // Completing: the leader may be assigning to the old id, so start over (as Kafka does).
            return await withCheckedContinuation { continuation in
                member.joinWaiter = JoinWaiter(version: join.version, continuation: continuation)
                if group.state == .preparingRebalance {
                    maybeCompleteJoin(group, nowMs: nowMs)
                } else {
                    prepareRebalance(group, reason: "static member \(instanceId) rejoined", nowMs: nowMs)
                }
            }
        case .empty, .dead:
            return Self.joinError(.unknownMemberId, memberId: "")
        }
    }

    // MARK: - Rebalance machinery

    /// Starts a rebalance if the group's state allows one (Stable, CompletingRebalance, Empty).
    func maybePrepareRebalance(_ group: ClassicGroup, reason: String, nowMs: Int64) {
        switch group.state {
        case .stable, .completingRebalance, .empty: prepareRebalance(group, reason: reason, nowMs: nowMs)
        case .preparingRebalance, .dead: break
        }
    }

    /// Moves the group to PreparingRebalance and arms the join deadline: the initial delay for a group leaving
    /// Empty, else the largest rebalance timeout. Parked SyncGroups get REBALANCE_IN_PROGRESS.
    func prepareRebalance(_ group: ClassicGroup, reason: String, nowMs: Int64) {
        if group.state == .completingRebalance {
            for member in group.orderedMembers {
                member.assignment = ByteBuffer()
                member.resumeSync { _ in Self.syncError(.rebalanceInProgress) }
            }
        }
        let leavingEmpty = group.state == .empty
        group.pendingSyncMembers = []
        group.syncDeadlineMs = nil
        group.transition(to: .preparingRebalance, nowMs: nowMs)
        if leavingEmpty, config.initialRebalanceDelayMs > 0 {
            let delay = Int64(config.initialRebalanceDelayMs)
            group.initialDelayActive = true
            group.newMemberAdded = false
            group.initialDelayRemainingMs = max(group.rebalanceTimeoutMs - delay, 0)
            group.joinDeadlineMs = nowMs + delay
        } else {
            group.initialDelayActive = false
            group.joinDeadlineMs = nowMs + group.rebalanceTimeoutMs
        }
        logger.info(
            "preparing rebalance",
            metadata: [
                "group": "\(group.groupId)", "generation": "\(group.generationId)", "reason": "\(reason)",
            ])
        maybeCompleteJoin(group, nowMs: nowMs)
    }

    /// Completes the join phase early when every member has rejoined (never during the initial delay).
    func maybeCompleteJoin(_ group: ClassicGroup, nowMs: Int64) {
        guard group.state == .preparingRebalance, !group.initialDelayActive, group.hasAllMembersJoined else { return }
        completeJoin(group, nowMs: nowMs)
    }

    /// The join deadline passed: extend the initial delay if members keep arriving, else complete the join.
    func joinDeadlineReached(_ group: ClassicGroup, nowMs: Int64) {
        guard group.state == .preparingRebalance else { return }
        if group.initialDelayActive {
            if group.newMemberAdded, group.initialDelayRemainingMs > 0 {
                let delay = min(Int64(config.initialRebalanceDelayMs), group.initialDelayRemainingMs)
                group.newMemberAdded = false
                group.initialDelayRemainingMs = max(group.initialDelayRemainingMs - delay, 0)
                group.joinDeadlineMs = nowMs + delay
                return
            }
            group.initialDelayActive = false
        }
        completeJoin(group, nowMs: nowMs)
    }

    /// Ends the join phase (Kafka's `onCompleteJoin`): drops dynamic members that did not rejoin, starts the next
    /// generation and answers every parked JoinGroup; only the leader gets the member list.
    func completeJoin(_ group: ClassicGroup, nowMs: Int64) {
        for member in group.orderedMembers where !member.isAwaitingJoin && !member.isStatic {
            member.resumeSync { _ in Self.syncError(.rebalanceInProgress) }
            group.remove(memberId: member.memberId)
            logger.info(
                "removed member that did not rejoin",
                metadata: ["group": "\(group.groupId)", "member": "\(member.memberId)"])
        }
        group.joinDeadlineMs = nil
        group.initialDelayActive = false
        if !group.isEmpty, !group.electJoinedLeader() {
            // Only static members that have not rejoined remain: wait for them (or their session timeouts).
            group.joinDeadlineMs = nowMs + group.rebalanceTimeoutMs
            return
        }
        group.initNextGeneration(nowMs: nowMs)
        if group.state == .empty {
            _ = storeGroupMetadata(group, nowMs: nowMs)
            logger.info(
                "group is empty", metadata: ["group": "\(group.groupId)", "generation": "\(group.generationId)"])
            return
        }
        for member in group.orderedMembers where member.isAwaitingJoin {
            member.resumeJoin { version in joinResponse(group, for: member, version: version) }
            member.isNew = false
            member.touch(nowMs: nowMs)
        }
        group.pendingSyncMembers = Set(group.orderedMembers.map(\.memberId))
        group.syncDeadlineMs = nowMs + group.rebalanceTimeoutMs
        logger.info(
            "join phase complete",
            metadata: [
                "group": "\(group.groupId)", "generation": "\(group.generationId)",
                "protocol": "\(group.protocolName ?? "")", "members": "\(group.members.count)",
            ])
    }

    /// Removes a member (answering its parked requests with UNKNOWN_MEMBER_ID) and rebalances as needed.
    func removeMemberAndUpdateGroup(_ group: ClassicGroup, memberId: String, reason: String, nowMs: Int64) {
        guard let member = group.member(memberId) else { return }
        member.resumeJoin { _ in Self.joinError(.unknownMemberId, memberId: memberId) }
        member.resumeSync { _ in Self.syncError(.unknownMemberId) }
        group.remove(memberId: memberId)
        logger.info(
            "member removed", metadata: ["group": "\(group.groupId)", "member": "\(memberId)", "reason": "\(reason)"])
        switch group.state {
        case .stable, .completingRebalance: prepareRebalance(group, reason: reason, nowMs: nowMs)
        case .preparingRebalance: maybeCompleteJoin(group, nowMs: nowMs)
        case .empty, .dead: break
        }
    }

    // MARK: - Responses

    /// The successful JoinGroup response for `member` in the group's current generation.
    func joinResponse(_ group: ClassicGroup, for member: ClassicGroupMember, version: Int16) -> JoinGroupResponse {
        var response = JoinGroupResponse()
        response.errorCode = GroupErrorCode.none.code
        response.generationId = group.generationId
        if version >= 7 {
            response.protocolType = group.protocolType
            response.protocolName = group.protocolName
        } else {
            response.protocolName = group.protocolName ?? ""
        }
        response.leader = group.leaderId ?? ""
        response.memberId = member.memberId
        if group.isLeader(member.memberId) {
            let protocolName = group.protocolName
            response.members = group.orderedMembers.map { other in
                JoinGroupResponse.JoinGroupResponseMember(
                    memberId: other.memberId, groupInstanceId: version >= 5 ? other.groupInstanceId : nil,
                    metadata: protocolName.flatMap { other.metadata(for: $0) } ?? ByteBuffer())
            }
        }
        return response
    }

    /// A JoinGroup error response.
    static func joinError(_ error: GroupErrorCode, memberId: String) -> JoinGroupResponse {
        var response = JoinGroupResponse()
        response.errorCode = error.code
        response.generationId = -1
        response.memberId = error == .unknownMemberId ? "" : memberId
        return response
    }

    /// A SyncGroup error response.
    static func syncError(_ error: GroupErrorCode) -> SyncGroupResponse {
        var response = SyncGroupResponse()
        response.errorCode = error.code
        return response
    }
}

/// The normalised fields of a JoinGroup request.
struct JoinParameters {
    var memberId: String
    var groupInstanceId: String?
    var clientId: String
    var clientHost: String
    var sessionTimeoutMs: Int32
    var rebalanceTimeoutMs: Int32
    var protocolType: String
    var protocols: [GroupProtocol]
    var version: Int16

    init(request: JoinGroupRequest, version: Int16, clientId: String, clientHost: String) {
        memberId = request.memberId
        groupInstanceId = version >= 5 ? request.groupInstanceId : nil
        self.clientId = clientId
        self.clientHost = clientHost
        sessionTimeoutMs = request.sessionTimeoutMs
        // v0 has no rebalance timeout: Kafka uses the session timeout.
        rebalanceTimeoutMs =
            version == 0 || request.rebalanceTimeoutMs <= 0 ? request.sessionTimeoutMs : request.rebalanceTimeoutMs
        protocolType = request.protocolType
        protocols = request.protocols.map { GroupProtocol(name: $0.name, metadata: $0.metadata) }
        self.version = version
    }
}
