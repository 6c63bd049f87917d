import NIOCore
import RunnelProtocol

// FindCoordinator, ListGroups, DescribeGroups and DeleteGroups (KAFKA-FORMATS §8.1, §8.10, §12).
extension GroupCoordinator {
    /// Handles FindCoordinator v0–6: a single broker coordinates every group (key type 0) and transactional id
    /// (key type 1); other key types (share groups) get INVALID_REQUEST.
    /// - Parameter available: false when `__consumer_offsets` could not be created (COORDINATOR_NOT_AVAILABLE).
    nonisolated func handleFindCoordinator(
        _ request: FindCoordinatorRequest, version: Int16, nodeId: Int32, host: String, port: Int32,
        available: Bool = true
    ) -> FindCoordinatorResponse {
        let keyType = version >= 1 ? request.keyType : 0
        let error: GroupErrorCode
        let message: String?
        if keyType != 0 && keyType != 1 {
            (error, message) = (.invalidRequest, "unsupported key type \(keyType)")
        } else if !available {
            (error, message) = (.coordinatorNotAvailable, "__consumer_offsets is not available")
        } else {
            (error, message) = (.none, nil)
        }
        var response = FindCoordinatorResponse()
        if version >= 4 {
            response.coordinators = request.coordinatorKeys.map { key in
                FindCoordinatorResponse.Coordinator(
                    key: key, nodeId: error == .none ? nodeId : -1, host: error == .none ? host : "",
                    port: error == .none ? port : -1, errorCode: error.code,
                    errorMessage: message)
            }
        } else {
            response.errorCode = error.code
            response.errorMessage = message
            response.nodeId = error == .none ? nodeId : -1
            response.host = error == .none ? host : ""
            response.port = error == .none ? port : -1
        }
        return response
    }

    /// Handles ListGroups v0–5 (v4 states filter, v5 types filter; every group here is "classic").
    func handleListGroups(_ request: ListGroupsRequest, version: Int16) -> ListGroupsResponse {
        if let error = unavailableError { return ListGroupsResponse(errorCode: error.code) }
        let states = version >= 4 ? Set(request.statesFilter.compactMap { ClassicGroupState(kafkaName: $0) }) : []
        let statesRequested = version >= 4 && !request.statesFilter.isEmpty
        let typesRequested = version >= 5 && !request.typesFilter.isEmpty
        if typesRequested, !request.typesFilter.contains(where: { $0.lowercased() == "classic" }) {
            return ListGroupsResponse()
        }
        let listed = groups.values
            .filter { $0.state != .dead && (!statesRequested || states.contains($0.state)) }
            .sorted { $0.groupId < $1.groupId }
            .map { group in
                ListGroupsResponse.ListedGroup(
                    groupId: group.groupId, protocolType: group.protocolType ?? "",
                    groupState: version >= 4 ? group.state.kafkaName : "",
                    groupType: version >= 5 ? "classic" : "")
            }
        return ListGroupsResponse(groups: listed)
    }

    /// Handles DescribeGroups v0–5. Unknown groups are reported Dead with no error (as Kafka before v6);
    /// member metadata and assignments are included only when the group is Stable.
    func handleDescribeGroups(_ request: DescribeGroupsRequest, version: Int16) -> DescribeGroupsResponse {
        let described = request.groups.map { groupId -> DescribeGroupsResponse.DescribedGroup in
            if let error = unavailableError {
                return DescribeGroupsResponse.DescribedGroup(errorCode: error.code, groupId: groupId)
            }
            guard let group = groups[groupId] else {
                return DescribeGroupsResponse.DescribedGroup(
                    groupId: groupId, groupState: ClassicGroupState.dead.kafkaName)
            }
            let stable = group.state == .stable
            let protocolName = stable ? group.protocolName : nil
            return DescribeGroupsResponse.DescribedGroup(
                groupId: groupId, groupState: group.state.kafkaName, protocolType: group.protocolType ?? "",
                protocolData: protocolName ?? "",
                members: group.orderedMembers.map { member in
                    DescribeGroupsResponse.DescribedGroupMember(
                        memberId: member.memberId, groupInstanceId: version >= 4 ? member.groupInstanceId : nil,
                        clientId: member.clientId, clientHost: member.clientHost,
                        memberMetadata: protocolName.flatMap { member.metadata(for: $0) } ?? ByteBuffer(),
                        memberAssignment: stable ? member.assignment : ByteBuffer())
                })
        }
        return DescribeGroupsResponse(groups: described)
    }

    /// Handles DeleteGroups v0–2: only Empty groups can be deleted; their offsets and metadata get tombstones.
    func handleDeleteGroups(_ request: DeleteGroupsRequest, version: Int16) -> DeleteGroupsResponse {
        let now = clock()
        let results = request.groupsNames.map { groupId in
            DeleteGroupsResponse.DeletableGroupResult(
                groupId: groupId, errorCode: deleteGroup(groupId, nowMs: now).code)
        }
        return DeleteGroupsResponse(results: results)
    }

    private func deleteGroup(_ groupId: String, nowMs: Int64) -> GroupErrorCode {
        if let error = unavailableError { return error }
        guard !groupId.isEmpty else { return .invalidGroupId }
        guard let group = groups[groupId], group.state != .dead else { return .groupIdNotFound }
        guard group.state == .empty else { return .nonEmptyGroup }
        var entries = group.offsets.keys.sorted().map {
            OffsetsTopicRecords.offsetCommit(group: groupId, topicPartition: $0, offset: nil)
        }
        entries.append(OffsetsTopicRecords.groupMetadata(group: groupId, value: nil))
        let error = appendRecords(entries, groupId: groupId, nowMs: nowMs)
        guard error == .none else { return error }
        removeGroup(group, nowMs: nowMs)
        logger.info("deleted group", metadata: ["group": "\(groupId)"])
        return .none
    }
}
