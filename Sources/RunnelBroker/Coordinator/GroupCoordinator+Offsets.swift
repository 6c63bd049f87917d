import NIOCore
import RunnelProtocol
import RunnelStorage

// OffsetCommit, OffsetFetch, OffsetDelete and offset expiry (KAFKA-FORMATS §8.8, §8.10).
extension GroupCoordinator {
    /// Handles OffsetCommit v2–9 (older versions decode the same way). Accepted partitions are appended to
    /// `__consumer_offsets` as one batch before the response; in memory only after the append succeeded.
    func handleOffsetCommit(_ request: OffsetCommitRequest, version: Int16) -> OffsetCommitResponse {
        let now = clock()
        let groupError = validateOffsetCommit(request, version: version, nowMs: now)
        var results: [[GroupErrorCode]] = request.topics.map { topic in topic.partitions.map { _ in groupError } }
        guard groupError == .none else { return Self.commitResponse(request, results) }

        var accepted: [(topic: Int, partition: Int, tp: TopicPartition, offset: CommittedOffset)] = []
        let retentionMs: Int64? =
            (2...4).contains(version) && request.retentionTimeMs >= 0 ? request.retentionTimeMs : nil
        for (topicIndex, topic) in request.topics.enumerated() {
            for (partitionIndex, partition) in topic.partitions.enumerated() {
                let metadata = partition.committedMetadata ?? ""
                if metadata.utf8.count > config.offsetMetadataMaxBytes {
                    results[topicIndex][partitionIndex] = .offsetMetadataTooLarge
                    continue
                }
                guard partitionExists(topic.name, partition.partitionIndex) else {
                    results[topicIndex][partitionIndex] = .unknownTopicOrPartition
                    continue
                }
                let commitTimestamp = version == 1 && partition.commitTimestamp >= 0 ? partition.commitTimestamp : now
                let offset = CommittedOffset(
                    offset: partition.committedOffset,
                    leaderEpoch: version >= 6 ? partition.committedLeaderEpoch : -1, metadata: metadata,
                    commitTimestampMs: commitTimestamp,
                    expireTimestampMs: retentionMs.map { now &+ $0 })
                accepted.append(
                    (
                        topicIndex, partitionIndex,
                        TopicPartition(topic: topic.name, partition: partition.partitionIndex),
                        offset
                    ))
            }
        }
        guard !accepted.isEmpty else { return Self.commitResponse(request, results) }
        let entries = accepted.map {
            OffsetsTopicRecords.offsetCommit(group: request.groupId, topicPartition: $0.tp, offset: $0.offset)
        }
        let appendError = appendRecords(entries, groupId: request.groupId, nowMs: now)
        if appendError == .none {
            let group = groups[request.groupId] ?? ClassicGroup(groupId: request.groupId, nowMs: now)
            groups[request.groupId] = group
            for entry in accepted { group.offsets[entry.tp] = entry.offset }
        }
        for entry in accepted { results[entry.topic][entry.partition] = appendError }
        return Self.commitResponse(request, results)
    }

    /// The group-level checks of a commit (Kafka's `ClassicGroup.validateOffsetCommit`).
    private func validateOffsetCommit(_ request: OffsetCommitRequest, version: Int16, nowMs: Int64) -> GroupErrorCode {
        if let error = unavailableError { return error }
        guard !request.groupId.isEmpty else { return .invalidGroupId }
        let generation = version >= 1 ? request.generationIdOrMemberEpoch : -1
        let memberId = version >= 1 ? request.memberId : ""
        let instanceId = version >= 7 ? request.groupInstanceId : nil
        guard let group = groups[request.groupId] else {
            // A standalone consumer (generation -1) creates a "simple" group on its first commit.
            if generation < 0 { return .none }
            return version >= 9 ? .groupIdNotFound : .illegalGeneration
        }
        if group.state == .dead { return .coordinatorNotAvailable }
        if generation < 0, group.state == .empty { return .none }
        if generation >= 0 || !memberId.isEmpty || instanceId != nil {
            let validation = group.validateMember(memberId: memberId, instanceId: instanceId)
            if validation != .none { return validation }
            if generation != group.generationId { return .illegalGeneration }
        } else if group.state != .empty {
            return .unknownMemberId
        }
        if group.state == .completingRebalance { return .rebalanceInProgress }
        // A commit proves the member is alive (as in Kafka's doCommitOffsets).
        group.member(memberId)?.touch(nowMs: nowMs)
        return .none
    }

    private static func commitResponse(_ request: OffsetCommitRequest, _ results: [[GroupErrorCode]])
        -> OffsetCommitResponse
    {
        OffsetCommitResponse(
            topics: zip(request.topics, results).map { topic, errors in
                OffsetCommitResponse.OffsetCommitResponseTopic(
                    name: topic.name,
                    partitions: zip(topic.partitions, errors).map { partition, error in
                        OffsetCommitResponse.OffsetCommitResponsePartition(
                            partitionIndex: partition.partitionIndex, errorCode: error.code)
                    })
            })
    }

    // MARK: - OffsetFetch

    /// One group's fetched offsets: per topic, per partition, the committed offset (nil = none).
    struct FetchedOffsets {
        var error: GroupErrorCode
        var topics: [(name: String, partitions: [(index: Int32, offset: CommittedOffset?)])]
    }

    /// Handles OffsetFetch v1–9 (v8+: several groups). Missing offsets read as -1; unknown groups as empty.
    func handleOffsetFetch(_ request: OffsetFetchRequest, version: Int16) -> OffsetFetchResponse {
        if version >= 8 {
            let groups = request.groups.map { requested in
                let fetched = fetchOffsets(
                    groupId: requested.groupId,
                    topics: requested.topics.map { $0.map { ($0.name, $0.partitionIndexes) } })
                return OffsetFetchResponse.OffsetFetchResponseGroup(
                    groupId: requested.groupId,
                    topics: fetched.topics.map { topic in
                        OffsetFetchResponse.OffsetFetchResponseTopics(
                            name: topic.name,
                            partitions: topic.partitions.map { partition in
                                OffsetFetchResponse.OffsetFetchResponsePartitions(
                                    partitionIndex: partition.index, committedOffset: partition.offset?.offset ?? -1,
                                    committedLeaderEpoch: partition.offset?.leaderEpoch ?? -1,
                                    metadata: partition.offset?.metadata ?? "", errorCode: 0)
                            })
                    },
                    errorCode: fetched.error.code)
            }
            return OffsetFetchResponse(groups: groups)
        }
        let fetched = fetchOffsets(
            groupId: request.groupId, topics: request.topics.map { $0.map { ($0.name, $0.partitionIndexes) } })
        // v0–1 have no top-level error: the group's error goes to every partition.
        let partitionError: Int16 = version < 2 ? fetched.error.code : 0
        var response = OffsetFetchResponse()
        response.topics = fetched.topics.map { topic in
            OffsetFetchResponse.OffsetFetchResponseTopic(
                name: topic.name,
                partitions: topic.partitions.map { partition in
                    OffsetFetchResponse.OffsetFetchResponsePartition(
                        partitionIndex: partition.index, committedOffset: partition.offset?.offset ?? -1,
                        committedLeaderEpoch: partition.offset?.leaderEpoch ?? -1,
                        metadata: partition.offset?.metadata ?? "", errorCode: partitionError)
                })
        }
        if version >= 2 { response.errorCode = fetched.error.code }
        return response
    }

    /// Offsets of `groupId` for `topics` (nil = every committed partition).
    func fetchOffsets(groupId: String, topics: [(String, [Int32])]?) -> FetchedOffsets {
        let requested = topics ?? []
        if let error = unavailableError {
            return FetchedOffsets(
                error: error, topics: requested.map { ($0.0, $0.1.map { ($0, nil) }) })
        }
        let offsets = groups[groupId]?.offsets ?? [:]
        guard let topics else {
            var byTopic: [String: [(index: Int32, offset: CommittedOffset?)]] = [:]
            for (tp, offset) in offsets { byTopic[tp.topic, default: []].append((tp.partition, offset)) }
            return FetchedOffsets(
                error: .none,
                topics: byTopic.keys.sorted().map { name in
                    (name, (byTopic[name] ?? []).sorted { $0.index < $1.index })
                })
        }
        return FetchedOffsets(
            error: .none,
            topics: topics.map { name, partitions in
                (name, partitions.map { ($0, offsets[TopicPartition(topic: name, partition: $0)]) })
            })
    }

    // MARK: - OffsetDelete

    /// Handles OffsetDelete v0: removes offsets of topics the group no longer subscribes to.
    func handleOffsetDelete(_ request: OffsetDeleteRequest, version: Int16) -> OffsetDeleteResponse {
        func topLevel(_ error: GroupErrorCode) -> OffsetDeleteResponse { OffsetDeleteResponse(errorCode: error.code) }
        if let error = unavailableError { return topLevel(error) }
        let now = clock()
        guard let group = groups[request.groupId], group.state != .dead else { return topLevel(.groupIdNotFound) }
        if group.state != .empty, group.protocolType != "consumer" { return topLevel(.nonEmptyGroup) }
        var results: [[GroupErrorCode]] = []
        var deleted: [TopicPartition] = []
        for topic in request.topics {
            let subscribed = group.state != .empty && group.isSubscribed(to: topic.name)
            results.append(topic.partitions.map { _ in subscribed ? .groupSubscribedToTopic : .none })
            guard !subscribed else { continue }
            for partition in topic.partitions {
                let tp = TopicPartition(topic: topic.name, partition: partition.partitionIndex)
                if group.offsets[tp] != nil { deleted.append(tp) }
            }
        }
        let entries = deleted.map {
            OffsetsTopicRecords.offsetCommit(group: group.groupId, topicPartition: $0, offset: nil)
        }
        let error = appendRecords(entries, groupId: group.groupId, nowMs: now)
        guard error == .none else { return topLevel(error) }
        for tp in deleted { group.offsets[tp] = nil }
        return OffsetDeleteResponse(
            topics: zip(request.topics, results).map { topic, errors in
                OffsetDeleteResponse.OffsetDeleteResponseTopic(
                    name: topic.name,
                    partitions: zip(topic.partitions, errors).map { partition, error in
                        OffsetDeleteResponse.OffsetDeleteResponsePartition(
                            partitionIndex: partition.partitionIndex, errorCode: error.code)
                    })
            })
    }

    // MARK: - Expiry

    /// Removes expired offsets (writing tombstones), and Empty groups left without offsets (Kafka's
    /// `cleanupGroupMetadata`). Offsets of topics an active group subscribes to never expire.
    func expireOffsets(nowMs: Int64) {
        let retentionMs = config.offsetsRetentionMs
        for group in Array(groups.values) {
            let baseTimestamp: ((CommittedOffset) -> Int64)?
            var candidates = group.offsets
            switch group.state {
            case .empty where group.protocolType == nil:
                baseTimestamp = { $0.commitTimestampMs }
            case .empty:
                let emptySince = group.stateTimestampMs
                baseTimestamp = { _ in emptySince }
            case .stable where group.protocolType == "consumer" && group.subscribedTopics != nil:
                candidates = candidates.filter { !group.isSubscribed(to: $0.key.topic) }
                baseTimestamp = { $0.commitTimestampMs }
            default:
                baseTimestamp = nil
            }
            guard let baseTimestamp else { continue }
            let expired = candidates.filter { _, offset in
                if let expire = offset.expireTimestampMs { return nowMs >= expire }
                return nowMs - baseTimestamp(offset) >= retentionMs
            }.keys.sorted()
            let removesGroup =
                group.state == .empty && group.pendingMembers.isEmpty && expired.count == group.offsets.count
            guard !expired.isEmpty || removesGroup else { continue }
            var entries = expired.map {
                OffsetsTopicRecords.offsetCommit(group: group.groupId, topicPartition: $0, offset: nil)
            }
            if removesGroup { entries.append(OffsetsTopicRecords.groupMetadata(group: group.groupId, value: nil)) }
            guard appendRecords(entries, groupId: group.groupId, nowMs: nowMs) == .none else { continue }
            for tp in expired { group.offsets[tp] = nil }
            if removesGroup { removeGroup(group, nowMs: nowMs) }
            logger.info(
                "expired offsets",
                metadata: [
                    "group": "\(group.groupId)", "partitions": "\(expired.count)", "group.removed": "\(removesGroup)",
                ])
        }
    }
}
