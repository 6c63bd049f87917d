import NIOCore
import RunnelProtocol

// SyncGroup, Heartbeat and LeaveGroup (KAFKA-FORMATS §8.4, §8.5), plus the deadlines `tick()` fires.
extension GroupCoordinator {
    /// Handles SyncGroup v0–5. In CompletingRebalance the request is parked until the leader's assignment has
    /// been persisted; then every parked member gets its assignment and the group becomes Stable.
    func handleSyncGroup(_ request: SyncGroupRequest, version: Int16) async -> SyncGroupResponse {
        if let error = unavailableError { return Self.syncError(error) }
        let now = clock()
        guard let group = groups[request.groupId] else { return Self.syncError(.unknownMemberId) }
        if group.state == .dead { return Self.syncError(.coordinatorNotAvailable) }
        let instanceId = version >= 3 ? request.groupInstanceId : nil
        let validation = group.validateMember(memberId: request.memberId, instanceId: instanceId)
        guard validation == .none, let member = group.member(request.memberId) else {
            return Self.syncError(validation == .none ? .unknownMemberId : validation)
        }
        guard request.generationId == group.generationId else { return Self.syncError(.illegalGeneration) }
        if version >= 5 {
            if let type = request.protocolType, type != group.protocolType {
                return Self.syncError(.inconsistentGroupProtocol)
            }
            if let name = request.protocolName, name != group.protocolName {
                return Self.syncError(.inconsistentGroupProtocol)
            }
        }
        switch group.state {
        case .empty, .dead:
            return Self.syncError(.unknownMemberId)
        case .preparingRebalance:
            return Self.syncError(.rebalanceInProgress)
        case .stable:
            member.touch(nowMs: now)
            group.pendingSyncMembers.remove(member.memberId)
            return syncResponse(group, for: member, version: version)
        case .completingRebalance:
            member.touch(nowMs: now)
            group.pendingSyncMembers.remove(member.memberId)
            member.resumeSync { _ in Self.syncError(.rebalanceInProgress) }
            let isLeader = group.isLeader(member.memberId)
            let assignments = request.assignments
            return await withCheckedContinuation { continuation in
                member.syncWaiter = SyncWaiter(version: version, continuation: continuation)
                if isLeader { applyLeaderAssignment(group, assignments, nowMs: now) }
            }
        }
    }

    /// Stores the leader's assignment (members it left out get empty bytes), then answers every parked
    /// SyncGroup and moves the group to Stable; on a write failure the members get the error and the group
    /// rebalances.
    private func applyLeaderAssignment(
        _ group: ClassicGroup, _ assignments: [SyncGroupRequest.SyncGroupRequestAssignment], nowMs: Int64
    ) {
        var byMember: [String: ByteBuffer] = [:]
        for assignment in assignments { byMember[assignment.memberId] = assignment.assignment }
        for member in group.orderedMembers { member.assignment = byMember[member.memberId] ?? ByteBuffer() }
        let error = storeGroupMetadata(group, nowMs: nowMs)
        guard error == .none else {
            for member in group.orderedMembers {
                member.assignment = ByteBuffer()
                member.resumeSync { _ in Self.syncError(error) }
            }
            maybePrepareRebalance(group, reason: "cannot store the assignment", nowMs: nowMs)
            return
        }
        group.transition(to: .stable, nowMs: nowMs)
        for member in group.orderedMembers {
            member.resumeSync { version in syncResponse(group, for: member, version: version) }
        }
        logger.info(
            "group stable", metadata: ["group": "\(group.groupId)", "generation": "\(group.generationId)"])
    }

    /// A successful SyncGroup response carrying `member`'s assignment.
    func syncResponse(_ group: ClassicGroup, for member: ClassicGroupMember, version: Int16) -> SyncGroupResponse {
        var response = SyncGroupResponse()
        response.assignment = member.assignment
        if version >= 5 {
            response.protocolType = group.protocolType
            response.protocolName = group.protocolName
        }
        return response
    }

    /// Handles Heartbeat v0–4: re-arms the member's session timer; REBALANCE_IN_PROGRESS tells it to rejoin.
    func handleHeartbeat(_ request: HeartbeatRequest, version: Int16) -> HeartbeatResponse {
        HeartbeatResponse(errorCode: heartbeat(request, version: version).code)
    }

    private func heartbeat(_ request: HeartbeatRequest, version: Int16) -> GroupErrorCode {
        if let error = unavailableError { return error }
        guard let group = groups[request.groupId] else { return .unknownMemberId }
        if group.state == .dead { return .coordinatorNotAvailable }
        let instanceId = version >= 3 ? request.groupInstanceId : nil
        let validation = group.validateMember(memberId: request.memberId, instanceId: instanceId)
        guard validation == .none, let member = group.member(request.memberId) else {
            return validation == .none ? .unknownMemberId : validation
        }
        guard request.generationId == group.generationId else { return .illegalGeneration }
        switch group.state {
        case .empty, .dead:
            return .unknownMemberId
        case .preparingRebalance:
            member.touch(nowMs: clock())
            return .rebalanceInProgress
        case .completingRebalance, .stable:
            member.touch(nowMs: clock())
            return .none
        }
    }

    /// Handles LeaveGroup v0–5 (v3+: a batch of members, by member id or by group instance id).
    func handleLeaveGroup(_ request: LeaveGroupRequest, version: Int16) -> LeaveGroupResponse {
        let identities =
            version >= 3
            ? request.members
            : [LeaveGroupRequest.MemberIdentity(memberId: request.memberId, groupInstanceId: nil)]
        let (topLevel, results) = leave(groupId: request.groupId, identities: identities)
        var response = LeaveGroupResponse()
        if version >= 3 {
            response.errorCode = topLevel.code
            response.members = zip(identities, results).map { identity, error in
                LeaveGroupResponse.MemberResponse(
                    memberId: identity.memberId, groupInstanceId: identity.groupInstanceId, errorCode: error.code)
            }
        } else {
            // v0–2 have one member and report its error at the top level.
            response.errorCode = topLevel != .none ? topLevel.code : (results.first ?? .none).code
        }
        return response
    }

    private func leave(
        groupId: String, identities: [LeaveGroupRequest.MemberIdentity]
    ) -> (GroupErrorCode, [GroupErrorCode]) {
        if let error = unavailableError { return (error, identities.map { _ in error }) }
        let now = clock()
        guard let group = groups[groupId] else {
            return (.none, identities.map { _ in .unknownMemberId })
        }
        if group.state == .dead { return (.coordinatorNotAvailable, identities.map { _ in .coordinatorNotAvailable }) }
        var results: [GroupErrorCode] = []
        for identity in identities {
            results.append(leaveOne(group, identity: identity, nowMs: now))
        }
        return (.none, results)
    }

    private func leaveOne(
        _ group: ClassicGroup, identity: LeaveGroupRequest.MemberIdentity, nowMs: Int64
    ) -> GroupErrorCode {
        var memberId = identity.memberId
        if memberId.isEmpty {
            guard let instanceId = identity.groupInstanceId, let current = group.staticMemberId(for: instanceId)
            else { return .unknownMemberId }
            memberId = current
        } else if group.pendingMembers.removeValue(forKey: memberId) != nil {
            if group.state == .preparingRebalance { maybeCompleteJoin(group, nowMs: nowMs) }
            return .none
        }
        let validation = group.validateMember(memberId: memberId, instanceId: identity.groupInstanceId)
        guard validation == .none else { return validation }
        let reason = identity.reason.map { "left the group: \($0)" } ?? "left the group"
        removeMemberAndUpdateGroup(group, memberId: memberId, reason: reason, nowMs: nowMs)
        return .none
    }

    // MARK: - Deadlines

    /// Fires the deadlines of one group that have passed at `nowMs`.
    func fireDeadlines(of group: ClassicGroup, nowMs: Int64) {
        let expiredPending = group.pendingMembers.filter { $0.value <= nowMs }.map(\.key)
        if !expiredPending.isEmpty {
            for memberId in expiredPending { group.pendingMembers[memberId] = nil }
            if group.state == .preparingRebalance { maybeCompleteJoin(group, nowMs: nowMs) }
        }
        for member in group.orderedMembers
        where member.sessionDeadlineMs <= nowMs
            && !member.shouldKeepAlive(nowMs: nowMs, newMemberJoinTimeoutMs: config.newMemberJoinTimeoutMs)
        {
            // Re-check: an earlier removal in this loop may have completed a join and re-armed this member.
            guard group.member(member.memberId) === member, member.sessionDeadlineMs <= nowMs else { continue }
            removeMemberAndUpdateGroup(group, memberId: member.memberId, reason: "session timeout", nowMs: nowMs)
        }
        if group.state == .preparingRebalance, let deadline = group.joinDeadlineMs, deadline <= nowMs {
            joinDeadlineReached(group, nowMs: nowMs)
        }
        if let deadline = group.syncDeadlineMs, deadline <= nowMs {
            group.syncDeadlineMs = nil
            let missing = group.pendingSyncMembers
            group.pendingSyncMembers = []
            if group.state == .completingRebalance || group.state == .stable {
                for memberId in missing.sorted() where group.has(member: memberId) {
                    removeMemberAndUpdateGroup(
                        group, memberId: memberId, reason: "no SyncGroup within the rebalance timeout", nowMs: nowMs)
                }
            }
        }
    }
}
