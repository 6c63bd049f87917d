internal import NIOCore
internal import RunnelProtocol

/// A consumer-group member (Kafka's classic group protocol): finds the group coordinator, joins the group,
/// runs the partition assignor when it is the leader, syncs, resumes from committed offsets, heartbeats from
/// ``poll()``, commits offsets, and leaves the group on ``close()``.
///
/// Reading itself is delegated to a ``KafkaConsumer`` over the assigned partitions. The member rejoins when a
/// heartbeat or commit reports REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION or UNKNOWN_MEMBER_ID, committing what
/// was consumed first when the generation still allows it.
///
/// Offsets to commit are what the caller marks with ``markConsumed(_:)`` (the CLI marks records once printed),
/// so a commit never covers a record that was not handed out.
public actor KafkaGroupConsumer {
    public let groupId: String
    public let topics: [String]
    public let configuration: GroupConfiguration
    private let connection: KafkaConnection
    private var coordinator: KafkaConnection
    private let reader: KafkaConsumer
    private var memberId = ""
    private var generationId: Int32 = -1
    private var needsJoin = true
    private var assigned: [TopicPartition] = []
    private var consumed: [TopicPartition: Int64] = [:]
    private var committed: [TopicPartition: Int64] = [:]
    private var lastHeartbeat = ContinuousClock.now
    private var isClosed = false

    private init(groupId: String, topics: [String], configuration: GroupConfiguration, connection: KafkaConnection) {
        self.groupId = groupId
        self.topics = topics
        self.configuration = configuration
        self.connection = connection
        self.coordinator = connection
        self.reader = KafkaConsumer(connection: connection, configuration: configuration.consumer)
    }

    /// Connects to `bootstrap` and finds the coordinator; the group is joined on the first ``poll()``.
    /// - Throws: ``ClientError/unsupportedApi(api:)`` when the broker has no group coordinator.
    public static func connect(
        to bootstrap: BrokerAddress, groupId: String, topics: [String], configuration: GroupConfiguration = .init(),
        clientId: String = "runnel-group-consumer"
    ) async throws(ClientError) -> KafkaGroupConsumer {
        let connection = try await KafkaConnection.connect(to: bootstrap, clientId: clientId)
        for api in [ApiKey.findCoordinator, .joinGroup, .syncGroup, .heartbeat, .offsetCommit, .offsetFetch] {
            guard connection.apiVersions.supports(api) else {
                await connection.close()
                throw .unsupportedApi(api: "\(api.name) (consumer groups)")
            }
        }
        let consumer = KafkaGroupConsumer(
            groupId: groupId, topics: topics, configuration: configuration, connection: connection)
        do {
            try await consumer.findCoordinator()
        } catch {
            await connection.close()
            throw error
        }
        return consumer
    }

    /// The partitions assigned in the current generation.
    public var assignment: [TopicPartition] { assigned }
    /// The current generation id (-1 before the first join).
    public var generation: Int32 { generationId }
    /// This member's id ("" before the first join).
    public var member: String { memberId }

    private func findCoordinator() async throws(ClientError) {
        let address = try await connection.coordinatorAddress(of: groupId)
        if address != connection.address {
            coordinator = try await KafkaConnection.connect(to: address, clientId: connection.clientId)
        }
    }

    // MARK: - Membership

    private func join() async throws(ClientError) {
        let joinVersion = try coordinator.version(for: .joinGroup)
        let subscription = ConsumerProtocolSubscription(topics: topics.sorted()).encodedWithVersionPrefix(version: 0)
        var attempt = 0
        while true {
            attempt += 1
            let request = JoinGroupRequest(
                groupId: groupId, sessionTimeoutMs: configuration.sessionTimeoutMs,
                rebalanceTimeoutMs: configuration.rebalanceTimeoutMs, memberId: memberId, protocolType: "consumer",
                protocols: configuration.assignors.map { .init(name: $0.protocolName, metadata: subscription) })
            let response = try await coordinator.send(
                request, version: joinVersion, extraTimeoutMs: Int64(configuration.rebalanceTimeoutMs))
            let code = KafkaErrorCode(rawValue: response.errorCode)
            if code == .memberIdRequired || code == .unknownMemberId {
                memberId = code == .memberIdRequired ? response.memberId : ""
                continue
            }
            if (code == .rebalanceInProgress || code.isRetriable) && attempt < 20 {
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            guard code == .none else { throw .broker(operation: "JoinGroup \(groupId)", code: code, message: nil) }
            memberId = response.memberId
            generationId = response.generationId
            var assignments: [SyncGroupRequest.SyncGroupRequestAssignment] = []
            if response.leader == response.memberId {
                let assignor = configuration.assignors.first { $0.protocolName == response.protocolName }
                    ?? configuration.assignors.first ?? .range
                assignments = try await leaderAssignments(members: response.members, assignor: assignor)
            }
            let sync = try await coordinator.send(
                SyncGroupRequest(
                    groupId: groupId, generationId: generationId, memberId: memberId, protocolType: "consumer",
                    protocolName: response.protocolName, assignments: assignments))
            let syncCode = KafkaErrorCode(rawValue: sync.errorCode)
            // Rejoin on a rebalance or a lost membership, and (as the Java client does) after a retriable
            // error such as COORDINATOR_NOT_AVAILABLE while the coordinator loads or creates its log.
            if syncCode == .rebalanceInProgress || syncCode == .illegalGeneration || syncCode == .unknownMemberId
                || syncCode.isRetriable
            {
                if syncCode == .unknownMemberId { memberId = "" }
                guard attempt < 20 else { throw .broker(operation: "SyncGroup \(groupId)", code: syncCode, message: nil) }
                if syncCode.isRetriable { try? await Task.sleep(for: .milliseconds(100)) }
                continue
            }
            guard syncCode == .none else {
                throw .broker(operation: "SyncGroup \(groupId)", code: syncCode, message: nil)
            }
            try await adopt(assignment: sync.assignment)
            needsJoin = false
            lastHeartbeat = .now
            return
        }
    }

    private func leaderAssignments(
        members: [JoinGroupResponse.JoinGroupResponseMember], assignor: PartitionAssignor
    ) async throws(ClientError) -> [SyncGroupRequest.SyncGroupRequestAssignment] {
        var subscriptions: [String: Set<String>] = [:]
        for member in members {
            let topics: [String]
            do {
                topics = try ConsumerProtocolSubscription.decodeVersionPrefixed(from: member.metadata).value.topics
            } catch {
                throw .malformedResponse(api: "JoinGroup", reason: "member \(member.memberId) subscription: \(error)")
            }
            subscriptions[member.memberId] = Set(topics)
        }
        var counts: [String: Int32] = [:]
        for topic in Set(subscriptions.values.flatMap { $0 }).sorted() {
            if let metadata = try? await connection.topicMetadata(topic) { counts[topic] = metadata.partitionCount }
        }
        let plan = assignor.assign(members: subscriptions, partitionCounts: counts)
        return plan.keys.sorted().map { member in
            var byTopic: [String: [Int32]] = [:]
            for tp in plan[member] ?? [] { byTopic[tp.topic, default: []].append(tp.partition) }
            let assignment = ConsumerProtocolAssignment(
                assignedPartitions: byTopic.keys.sorted().map { .init(topic: $0, partitions: byTopic[$0] ?? []) })
            return .init(memberId: member, assignment: assignment.encodedWithVersionPrefix(version: 0))
        }
    }

    /// Switches the reader to the new assignment, resuming each partition at its committed offset.
    private func adopt(assignment bytes: ByteBuffer) async throws(ClientError) {
        var partitions: [TopicPartition] = []
        if bytes.readableBytes > 0 {
            do {
                let decoded = try ConsumerProtocolAssignment.decodeVersionPrefixed(from: bytes).value
                for entry in decoded.assignedPartitions {
                    partitions += entry.partitions.map { TopicPartition(topic: entry.topic, partition: $0) }
                }
            } catch {
                throw .malformedResponse(api: "SyncGroup", reason: "assignment: \(error)")
            }
        }
        await reader.unassign(assigned)
        assigned = partitions.sorted()
        consumed = consumed.filter { assigned.contains($0.key) }
        let offsets = try await fetchCommitted(assigned)
        committed = offsets
        var starts: [TopicPartition: StartOffset] = [:]
        for tp in assigned { starts[tp] = offsets[tp].map { .offset($0) } ?? configuration.startWithoutCommit }
        if !starts.isEmpty { try await reader.assign(starts) }
    }

    /// Committed offsets of `partitions` (partitions without one are left out).
    public func fetchCommitted(_ partitions: [TopicPartition]) async throws(ClientError) -> [TopicPartition: Int64] {
        guard !partitions.isEmpty else { return [:] }
        var byTopic: [String: [Int32]] = [:]
        for tp in partitions { byTopic[tp.topic, default: []].append(tp.partition) }
        let request = OffsetFetchRequest(
            groupId: groupId,
            topics: byTopic.keys.sorted().map { .init(name: $0, partitionIndexes: byTopic[$0] ?? []) })
        let response = try await coordinator.send(request)
        let code = KafkaErrorCode(rawValue: response.errorCode)
        guard code == .none else { throw .broker(operation: "OffsetFetch \(groupId)", code: code, message: nil) }
        var result: [TopicPartition: Int64] = [:]
        for topic in response.topics {
            for partition in topic.partitions where partition.errorCode == 0 && partition.committedOffset >= 0 {
                result[TopicPartition(topic: topic.name, partition: partition.partitionIndex)] = partition.committedOffset
            }
        }
        return result
    }

    // MARK: - Consuming

    /// Joins (or rejoins) when needed, heartbeats when due, and fetches from the assigned partitions.
    public func poll(maxWaitMs: Int32? = nil) async throws(ClientError) -> [ConsumerRecord] {
        guard !isClosed else { throw .closed }
        if needsJoin { try await join() }
        try await heartbeatIfDue()
        if needsJoin {
            try await commitConsumed()
            try await join()
        }
        let wait = min(maxWaitMs ?? configuration.consumer.maxWaitMs, Int32(configuration.heartbeatIntervalMs))
        guard !assigned.isEmpty else {
            try? await Task.sleep(for: .milliseconds(Int64(wait)))
            return []
        }
        return try await reader.poll(maxWaitMs: wait)
    }

    /// Whether every assigned partition has been read to its end (false before the first join).
    public var isAtEnd: Bool {
        get async {
            if needsJoin { return false }
            if assigned.isEmpty { return true }
            return await reader.isAtEnd
        }
    }

    /// Records `record` as consumed: the next commit covers it (commits store `offset + 1`).
    public func markConsumed(_ record: ConsumerRecord) {
        let tp = TopicPartition(topic: record.topic, partition: record.partition)
        consumed[tp] = max(consumed[tp] ?? 0, record.offset + 1)
    }

    /// Commits the offsets marked consumed since the last commit (no request when nothing changed).
    public func commitConsumed() async throws(ClientError) {
        let pending = consumed.filter { committed[$0.key] != $0.value }
        guard !pending.isEmpty, generationId >= 0 else { return }
        try await commit(pending)
    }

    /// Commits `offsets` (the next offset to read, per partition) in the current generation.
    public func commit(_ offsets: [TopicPartition: Int64]) async throws(ClientError) {
        var byTopic: [String: [OffsetCommitRequest.OffsetCommitRequestPartition]] = [:]
        for (tp, offset) in offsets {
            byTopic[tp.topic, default: []].append(.init(partitionIndex: tp.partition, committedOffset: offset))
        }
        let request = OffsetCommitRequest(
            groupId: groupId, generationIdOrMemberEpoch: generationId, memberId: memberId,
            topics: byTopic.keys.sorted().map { .init(name: $0, partitions: byTopic[$0] ?? []) })
        let response = try await coordinator.send(request)
        for topic in response.topics {
            for partition in topic.partitions {
                let code = KafkaErrorCode(rawValue: partition.errorCode)
                let tp = TopicPartition(topic: topic.name, partition: partition.partitionIndex)
                if code == .none {
                    committed[tp] = offsets[tp]
                } else if code == .rebalanceInProgress || code == .illegalGeneration || code == .unknownMemberId {
                    needsJoin = true
                    throw .broker(operation: "OffsetCommit \(groupId) (the group is rebalancing)", code: code, message: nil)
                } else {
                    throw .broker(operation: "OffsetCommit \(groupId) for \(tp)", code: code, message: nil)
                }
            }
        }
    }

    private func heartbeatIfDue() async throws(ClientError) {
        guard ContinuousClock.now - lastHeartbeat >= .milliseconds(configuration.heartbeatIntervalMs) else { return }
        let response = try await coordinator.send(
            HeartbeatRequest(groupId: groupId, generationId: generationId, memberId: memberId))
        lastHeartbeat = .now
        let code = KafkaErrorCode(rawValue: response.errorCode)
        switch code {
        case .none: break
        case .rebalanceInProgress: needsJoin = true
        case .illegalGeneration, .unknownMemberId:
            needsJoin = true
            if code == .unknownMemberId { memberId = "" }
        default: throw .broker(operation: "Heartbeat \(groupId)", code: code, message: nil)
        }
    }

    /// Commits what was consumed, leaves the group (so the others rebalance at once), and closes connections.
    public func close() async throws(ClientError) {
        guard !isClosed else { return }
        isClosed = true
        var failure: ClientError?
        do {
            try await commitConsumed()
        } catch {
            failure = error
        }
        if !memberId.isEmpty, coordinator.apiVersions.supports(.leaveGroup) {
            let version = (try? coordinator.version(for: .leaveGroup)) ?? 0
            let request =
                version >= 3
                ? LeaveGroupRequest(groupId: groupId, members: [.init(memberId: memberId)])
                : LeaveGroupRequest(groupId: groupId, memberId: memberId)
            _ = try? await coordinator.send(request, version: version)
        }
        if coordinator !== connection { await coordinator.close() }
        await connection.close()
        if let failure { throw failure }
    }
}
