internal import NIOCore
internal import RunnelProtocol

/// Consumer-group administration (what Kafka's `kafka-consumer-groups.sh` does through its Admin client):
/// list, describe, committed offsets and lag, offset commits for an inactive group, delete.
///
/// Group requests go to the group's coordinator (FindCoordinator); when that is another address than the
/// admin's connection, a connection is opened for the call and closed after it.
extension KafkaAdmin {
    /// Versions this file encodes for the admin-only group APIs (the consumer's table has no entry for them):
    /// ListGroups v4 adds the state, DescribeGroups v0–5 and DeleteGroups v0–2 differ only in encoding.
    static let groupAdminVersions: [ApiKey: ClosedRange<Int16>] = [
        .listGroups: 0...5, .describeGroups: 0...5, .deleteGroups: 0...2,
    ]

    /// The version to use for one of ``groupAdminVersions``' APIs with `connection`'s broker.
    static func negotiatedVersion(_ api: ApiKey, on connection: KafkaConnection) throws(ClientError) -> Int16 {
        guard let ours = groupAdminVersions[api], let theirs = connection.apiVersions.broker[api.rawValue] else {
            throw .unsupportedApi(api: api.name)
        }
        let version = min(ours.upperBound, theirs.upperBound)
        guard version >= max(ours.lowerBound, theirs.lowerBound) else { throw .unsupportedApi(api: api.name) }
        return version
    }

    // MARK: - Coordinator

    /// Runs `body` with a connection to `group`'s coordinator.
    func withCoordinator<T>(
        of group: String, _ body: (KafkaConnection) async throws(ClientError) -> T
    ) async throws(ClientError) -> T {
        let address = try await connection.coordinatorAddress(of: group)
        guard address != connection.address else { return try await body(connection) }
        let coordinator = try await KafkaConnection.connect(to: address, clientId: connection.clientId)
        do {
            let result = try await body(coordinator)
            await coordinator.close()
            return result
        } catch {
            await coordinator.close()
            throw error
        }
    }

    // MARK: - List and describe

    /// Every group the broker coordinates, sorted by id (ListGroups; a single node coordinates them all).
    public func listGroups() async throws(ClientError) -> [ConsumerGroupListing] {
        let version = try Self.negotiatedVersion(.listGroups, on: connection)
        let response = try await connection.send(ListGroupsRequest(), version: version)
        let code = KafkaErrorCode(rawValue: response.errorCode)
        guard code == .none else { throw .broker(operation: "ListGroups", code: code, message: nil) }
        return response.groups
            .map { ConsumerGroupListing(groupId: $0.groupId, state: $0.groupState, protocolType: $0.protocolType) }
            .sorted { $0.groupId < $1.groupId }
    }

    /// Describes one group (DescribeGroups). A group the coordinator does not know is reported `Dead` with no
    /// members, as Kafka does.
    /// - Throws: ``ClientError/broker(operation:code:message:)`` for a group-level error.
    public func describeGroup(_ group: String) async throws(ClientError) -> ConsumerGroupDescription {
        try await withCoordinator(of: group) { coordinator throws(ClientError) in
            let version = try Self.negotiatedVersion(.describeGroups, on: coordinator)
            let response = try await coordinator.send(DescribeGroupsRequest(groups: [group]), version: version)
            guard let described = response.groups.first(where: { $0.groupId == group }) ?? response.groups.first else {
                throw .malformedResponse(api: "DescribeGroups", reason: "no entry for group \(group)")
            }
            let code = KafkaErrorCode(rawValue: described.errorCode)
            guard code == .none else { throw .broker(operation: "describe group \(group)", code: code, message: nil) }
            var members: [ConsumerGroupMember] = []
            for member in described.members {
                let assignment =
                    described.protocolType == "consumer"
                    ? try Self.decodeAssignment(member.memberAssignment, member: member.memberId) : []
                members.append(
                    ConsumerGroupMember(
                        memberId: member.memberId, groupInstanceId: member.groupInstanceId, clientId: member.clientId,
                        clientHost: member.clientHost, assignment: assignment))
            }
            return ConsumerGroupDescription(
                groupId: group, state: described.groupState, protocolType: described.protocolType,
                protocolName: described.protocolData, members: members)
        }
    }

    /// Decodes a `consumer` protocol assignment (empty bytes: nothing assigned).
    private static func decodeAssignment(_ bytes: ByteBuffer, member: String) throws(ClientError) -> [TopicPartition] {
        guard bytes.readableBytes > 0 else { return [] }
        do {
            let decoded = try ConsumerProtocolAssignment.decodeVersionPrefixed(from: bytes).value
            return decoded.assignedPartitions.flatMap { entry in
                entry.partitions.map { TopicPartition(topic: entry.topic, partition: $0) }
            }.sorted()
        } catch {
            throw .malformedResponse(api: "DescribeGroups", reason: "assignment of member \(member): \(error)")
        }
    }

    // MARK: - Offsets

    /// The group's committed offsets (OffsetFetch): of `partitions`, or of every partition it has one for when
    /// nil. Partitions without a committed offset are left out.
    public func committedOffsets(group: String, partitions: [TopicPartition]? = nil) async throws(ClientError)
        -> [TopicPartition: Int64]
    {
        try await withCoordinator(of: group) { coordinator throws(ClientError) in
            let version = try coordinator.version(for: .offsetFetch)
            var topics: [OffsetFetchRequest.OffsetFetchRequestTopic]?
            if let partitions {
                guard !partitions.isEmpty else { return [:] }
                var byTopic: [String: [Int32]] = [:]
                for tp in partitions { byTopic[tp.topic, default: []].append(tp.partition) }
                topics = byTopic.keys.sorted().map { .init(name: $0, partitionIndexes: byTopic[$0] ?? []) }
            } else {
                // "All partitions" is a null topic array, from v2 on.
                guard version >= 2 else { throw .unsupportedApi(api: "OffsetFetch v2+ (all of a group's offsets)") }
                topics = nil
            }
            let response = try await coordinator.send(
                OffsetFetchRequest(groupId: group, topics: topics), version: version)
            let code = KafkaErrorCode(rawValue: response.errorCode)
            guard code == .none else { throw .broker(operation: "OffsetFetch \(group)", code: code, message: nil) }
            var result: [TopicPartition: Int64] = [:]
            for topic in response.topics {
                for partition in topic.partitions {
                    let partitionCode = KafkaErrorCode(rawValue: partition.errorCode)
                    if partitionCode == .unknownTopicOrPartition { continue }
                    guard partitionCode == .none else {
                        throw .broker(
                            operation: "OffsetFetch \(group) for \(topic.name)/\(partition.partitionIndex)",
                            code: partitionCode, message: nil)
                    }
                    if partition.committedOffset >= 0 {
                        result[TopicPartition(topic: topic.name, partition: partition.partitionIndex)] =
                            partition.committedOffset
                    }
                }
            }
            return result
        }
    }

    /// Commits `offsets` for a group without joining it (OffsetCommit with generation -1 and no member id),
    /// which the coordinator accepts only while the group has no members (state Empty, or unknown).
    /// - Throws: ``ClientError/invalidArgument(_:)`` naming the group when it has active members (the broker
    ///   answers UNKNOWN_MEMBER_ID or ILLEGAL_GENERATION), ``ClientError/unknownTopic(_:)`` for a missing
    ///   partition, else the broker's error.
    public func commitOffsets(group: String, offsets: [TopicPartition: Int64]) async throws(ClientError) {
        guard !offsets.isEmpty else { return }
        try await withCoordinator(of: group) { coordinator throws(ClientError) in
            var byTopic: [String: [OffsetCommitRequest.OffsetCommitRequestPartition]] = [:]
            for (tp, offset) in offsets.sorted(by: { $0.key < $1.key }) {
                byTopic[tp.topic, default: []].append(.init(partitionIndex: tp.partition, committedOffset: offset))
            }
            let request = OffsetCommitRequest(
                groupId: group, generationIdOrMemberEpoch: -1, memberId: "",
                topics: byTopic.keys.sorted().map { .init(name: $0, partitions: byTopic[$0] ?? []) })
            let response = try await coordinator.send(request)
            for topic in response.topics {
                for partition in topic.partitions {
                    let code = KafkaErrorCode(rawValue: partition.errorCode)
                    switch code {
                    case .none: continue
                    case .unknownMemberId, .illegalGeneration, .rebalanceInProgress:
                        throw .invalidArgument(
                            "cannot commit offsets for group \(group): it has active members (\(code)); "
                                + "stop its consumers first")
                    case .unknownTopicOrPartition:
                        throw .unknownTopic(topic.name)
                    default:
                        throw .broker(
                            operation: "OffsetCommit \(group) for \(topic.name)/\(partition.partitionIndex)",
                            code: code,
                            message: nil)
                    }
                }
            }
        }
    }

    /// Every partition the group has a committed offset for or a member is assigned, with its log end offset
    /// and owner, sorted by topic and partition. Partitions of topics deleted since the commit are left out.
    public func groupLag(_ description: ConsumerGroupDescription) async throws(ClientError)
        -> [ConsumerGroupPartitionLag]
    {
        let committed = try await committedOffsets(group: description.groupId)
        let owners = description.owners
        var partitions = Set(committed.keys).union(owners.keys)
        guard !partitions.isEmpty else { return [] }
        // Drop partitions whose topic no longer exists (ListOffsets would fail the whole request).
        let topics = Set(partitions.map(\.topic)).sorted()
        let response = try await connection.metadata(topics: topics)
        var known = Set<TopicPartition>()
        for topic in response.topics where topic.errorCode == 0 {
            for partition in topic.partitions {
                known.insert(TopicPartition(topic: topic.name ?? "", partition: partition.partitionIndex))
            }
        }
        partitions.formIntersection(known)
        let ends = try await connection.listOffsets(Array(partitions), timestamp: KafkaConnection.latestTimestamp)
        return partitions.sorted().map { tp in
            ConsumerGroupPartitionLag(
                topicPartition: tp, committedOffset: committed[tp], logEndOffset: ends[tp]?.offset ?? -1,
                owner: owners[tp])
        }
    }

    /// Computes a reset of `group`'s offsets over `partitions` (nil: every partition it has a committed offset
    /// for, Kafka's `--all-topics`). Reads only; commit the plan with ``commitOffsets(group:offsets:)``.
    public func planOffsetReset(group: String, partitions: [TopicPartition]?, spec: OffsetResetSpec)
        async throws(ClientError) -> OffsetResetPlan
    {
        let committed = try await committedOffsets(group: group)
        let chosen = partitions ?? Array(committed.keys)
        let earliest = try await connection.listOffsets(chosen, timestamp: KafkaConnection.earliestTimestamp)
        let latest = try await connection.listOffsets(chosen, timestamp: KafkaConnection.latestTimestamp)
        var byTimestamp: [TopicPartition: Int64] = [:]
        if case .timestamp(let ms) = spec {
            byTimestamp = try await connection.listOffsets(chosen, timestamp: ms).mapValues(\.offset)
        }
        let entries = try OffsetResetPlan.compute(
            spec: spec, partitions: chosen, committed: committed, earliest: earliest.mapValues(\.offset),
            latest: latest.mapValues(\.offset), timestampOffsets: byTimestamp)
        return OffsetResetPlan(groupId: group, entries: entries)
    }

    // MARK: - Delete

    /// Deletes groups (DeleteGroups) and returns each group's result code: `.none` when deleted,
    /// NON_EMPTY_GROUP (68) while it has members, GROUP_ID_NOT_FOUND (69) when it does not exist.
    public func deleteGroups(_ groups: [String]) async throws(ClientError) -> [(group: String, code: KafkaErrorCode)] {
        var results: [(group: String, code: KafkaErrorCode)] = []
        for group in groups {
            let code = try await withCoordinator(of: group) { coordinator throws(ClientError) in
                let version = try Self.negotiatedVersion(.deleteGroups, on: coordinator)
                let response = try await coordinator.send(DeleteGroupsRequest(groupsNames: [group]), version: version)
                guard let result = response.results.first(where: { $0.groupId == group }) ?? response.results.first
                else {
                    throw .malformedResponse(api: "DeleteGroups", reason: "no result for group \(group)")
                }
                return KafkaErrorCode(rawValue: result.errorCode)
            }
            results.append((group, code))
        }
        return results
    }
}

extension KafkaErrorCode {
    /// NON_EMPTY_GROUP: the group still has members.
    public static let nonEmptyGroup = KafkaErrorCode(rawValue: 68)
    /// GROUP_ID_NOT_FOUND.
    public static let groupIdNotFound = KafkaErrorCode(rawValue: 69)
    /// INVALID_GROUP_ID.
    public static let invalidGroupId = KafkaErrorCode(rawValue: 24)
}
