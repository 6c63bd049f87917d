import Logging
import NIOCore
import RunnelProtocol
import RunnelRecords
import RunnelStorage

/// The classic consumer-group coordinator (KAFKA-FORMATS §8): group membership, rebalances, and committed offsets,
/// persisted to the compacted `__consumer_offsets` topic through an `OffsetsLog`.
///
/// **Why an actor.** JoinGroup and SyncGroup are multi-step barriers: a request is parked (a `CheckedContinuation`
/// stored on its member) until other members arrive, the leader sends the assignment, or a timeout passes. The
/// actor serialises every group mutation without locks, and a parked request costs a continuation, not a thread,
/// so nothing here blocks an event loop or the cooperative pool (log appends are short `pwrite`s, never fsyncs).
/// Handlers never hold state across an `await`: the only suspension is the parked continuation itself, and the
/// code that resumes it builds the response from the group's state at that moment, so actor reentrancy cannot
/// observe a half-made change.
///
/// **Time.** Time comes from the injected `clock` (ms since the epoch). Deadlines (session timeouts, the join
/// phase's rebalance timeout and initial delay, the sync deadline, pending member ids, offset retention) are plain
/// numbers checked by `tick()`; `runTimers()` calls it every `config.timerTickMs`. Tests advance a manual clock and
/// call `tick()` themselves, so they are deterministic and never sleep.
///
/// **Lifecycle.** `load()` replays `__consumer_offsets` (until then group APIs answer
/// COORDINATOR_LOAD_IN_PROGRESS); `shutdown()` answers every parked request with NOT_COORDINATOR and refuses
/// further work.
actor GroupCoordinator {
    enum Lifecycle: Sendable, Equatable {
        case loading
        case running
        case stopped
        /// Replaying `__consumer_offsets` failed.
        case failed
    }

    let config: GroupCoordinatorConfig
    let offsetsLog: any OffsetsLog
    let logger: Logger
    /// ms since the epoch.
    let clock: @Sendable () -> Int64
    /// Whether a topic partition exists (OffsetCommit answers UNKNOWN_TOPIC_OR_PARTITION otherwise).
    let partitionExists: @Sendable (_ topic: String, _ partition: Int32) -> Bool

    private(set) var lifecycle = Lifecycle.loading
    /// Every known group (Dead groups are removed at once).
    var groups: [String: ClassicGroup] = [:]
    /// When `tick()` next expires offsets, ms since the epoch.
    var nextRetentionCheckMs: Int64

    init(
        config: GroupCoordinatorConfig = GroupCoordinatorConfig(), offsetsLog: any OffsetsLog, logger: Logger,
        clock: @escaping @Sendable () -> Int64,
        partitionExists: @escaping @Sendable (_ topic: String, _ partition: Int32) -> Bool
    ) {
        self.config = config
        self.offsetsLog = offsetsLog
        self.logger = logger
        self.clock = clock
        self.partitionExists = partitionExists
        self.nextRetentionCheckMs = clock() + config.offsetsRetentionCheckIntervalMs
    }

    // MARK: - Lifecycle

    /// Rebuilds groups and offsets by replaying every `__consumer_offsets` partition, then starts serving.
    /// Reads the log on the caller's executor: use `load(partitions:)` with data read on a thread pool when the
    /// log is on disk.
    /// - Throws: what `OffsetsLog.readAll` throws (corrupt batches are logged and skipped instead).
    func load() throws {
        let partitions = try (0..<config.offsetsTopicPartitions).map { try offsetsLog.readAll(partition: $0) }
        load(partitions: partitions)
    }

    /// Rebuilds groups and offsets from the batches of each `__consumer_offsets` partition (index = partition),
    /// then starts serving.
    ///
    /// Loaded groups with members come back Stable with fresh session timers (as Kafka's `onGroupLoaded`): members
    /// that keep heartbeating keep their assignment; silent ones expire and trigger a rebalance.
    func load(partitions: [[ByteBuffer]]) {
        guard lifecycle == .loading else { return }
        let now = clock()
        var loaded = 0
        for (partition, buffers) in partitions.enumerated() {
            var offsets: [String: [TopicPartition: CommittedOffset]] = [:]
            var metadata: [String: GroupMetadataValue?] = [:]
            for buffer in buffers {
                let records: [OffsetsTopicRecord]
                do {
                    records = try OffsetsTopicRecords.decode(batches: buffer) { reason in
                        logger.warning(
                            "skipping record in __consumer_offsets",
                            metadata: ["partition": "\(partition)", "reason": "\(reason)"])
                    }
                } catch {
                    logger.error(
                        "corrupt batch in __consumer_offsets; skipping the rest of the chunk",
                        metadata: ["partition": "\(partition)", "error": "\(error)"])
                    continue
                }
                for record in records {
                    switch record {
                    case .offsetCommit(let group, let tp, let offset):
                        offsets[group, default: [:]][tp] = offset
                    case .groupMetadata(let group, let value):
                        metadata[group] = .some(value)
                    }
                }
            }
            let groupIds = Set(offsets.keys).union(metadata.keys)
            for groupId in groupIds {
                let groupOffsets = offsets[groupId] ?? [:]
                let value = metadata[groupId] ?? nil
                if value == nil && groupOffsets.isEmpty { continue }  // deleted
                let group = ClassicGroup(groupId: groupId, nowMs: now)
                group.offsets = groupOffsets
                if let value { restore(group, from: value, nowMs: now) }
                groups[groupId] = group
                loaded += 1
            }
        }
        lifecycle = .running
        logger.info("group coordinator loaded", metadata: ["groups": "\(loaded)"])
    }

    /// Loading failed for good: group APIs answer COORDINATOR_NOT_AVAILABLE.
    func failLoad() {
        guard lifecycle == .loading else { return }
        lifecycle = .failed
    }

    /// Answers every parked request with NOT_COORDINATOR and stops serving (clients rediscover the coordinator).
    func shutdown() {
        guard lifecycle != .stopped else { return }
        lifecycle = .stopped
        for group in groups.values {
            for member in group.orderedMembers {
                member.resumeJoin { _ in Self.joinError(.notCoordinator, memberId: member.memberId) }
                member.resumeSync { _ in Self.syncError(.notCoordinator) }
            }
        }
        groups.removeAll()
    }

    /// Checks deadlines every `config.timerTickMs` until the task is cancelled or the coordinator stops;
    /// calls `shutdown()` once `stopWhen` returns true (the broker began shutting down).
    func runTimers(stopWhen: @Sendable () -> Bool = { false }) async {
        while !Task.isCancelled, lifecycle != .stopped {
            try? await Task.sleep(for: .milliseconds(config.timerTickMs))
            if stopWhen() {
                shutdown()
                return
            }
            tick()
        }
    }

    /// Fires every deadline that has passed: pending member ids, session timeouts, join and sync phase ends, and
    /// (every `offsetsRetentionCheckIntervalMs`) offset expiry.
    func tick() {
        guard lifecycle == .running else { return }
        let now = clock()
        for groupId in Array(groups.keys) {
            guard let group = groups[groupId] else { continue }
            fireDeadlines(of: group, nowMs: now)
        }
        if now >= nextRetentionCheckMs {
            nextRetentionCheckMs = now + config.offsetsRetentionCheckIntervalMs
            expireOffsets(nowMs: now)
        }
    }

    // MARK: - Shared helpers

    /// The `__consumer_offsets` partition of `groupId`.
    func offsetsPartition(for groupId: String) -> Int32 {
        OffsetsTopicPartitioner.partition(for: groupId, partitionCount: config.offsetsTopicPartitions)
    }

    /// The error every group API returns before loading / after shutdown, or nil when serving.
    var unavailableError: GroupErrorCode? {
        switch lifecycle {
        case .loading: .coordinatorLoadInProgress
        case .running: nil
        case .stopped: .notCoordinator
        case .failed: .coordinatorNotAvailable
        }
    }

    /// Appends `entries` for `groupId` as one batch. Returns `.none`, or the error to answer with.
    func appendRecords(_ entries: [OffsetsTopicEntry], groupId: String, nowMs: Int64) -> GroupErrorCode {
        guard !entries.isEmpty else { return .none }
        let partition = offsetsPartition(for: groupId)
        do {
            let batch = try OffsetsTopicRecords.batch(entries, timestampMs: nowMs)
            try offsetsLog.append(partition: partition, batch: batch)
            return .none
        } catch {
            logger.warning(
                "cannot append to __consumer_offsets",
                metadata: ["group": "\(groupId)", "partition": "\(partition)", "error": "\(error)"])
            // Kafka's mapping of append failures for group writes (GroupMetadataManager.appendForGroup).
            switch error {
            case StorageError.messageTooLarge, StorageError.recordListTooLarge: return .invalidCommitOffsetSize
            case StorageError.logClosed: return .notCoordinator
            default: return .coordinatorNotAvailable
            }
        }
    }

    /// The GroupMetadataValue describing `group` now (assignments as held by the members).
    func groupMetadataValue(of group: ClassicGroup) -> GroupMetadataValue {
        let protocolName = group.protocolName
        let members = group.orderedMembers.map { member in
            GroupMetadataValue.MemberMetadata(
                memberId: member.memberId, groupInstanceId: member.groupInstanceId, clientId: member.clientId,
                clientHost: member.clientHost, rebalanceTimeout: member.rebalanceTimeoutMs,
                sessionTimeout: member.sessionTimeoutMs,
                subscription: protocolName.flatMap { member.metadata(for: $0) } ?? ByteBuffer(),
                assignment: member.assignment)
        }
        return GroupMetadataValue(
            protocolType: group.protocolType ?? "", generation: group.generationId, protocol: group.protocolName,
            leader: group.leaderId, currentStateTimestamp: group.stateTimestampMs, members: members)
    }

    /// Writes the group's metadata record (completed sync, join ending Empty, static member replacement).
    func storeGroupMetadata(_ group: ClassicGroup, nowMs: Int64) -> GroupErrorCode {
        appendRecords(
            [OffsetsTopicRecords.groupMetadata(group: group.groupId, value: groupMetadataValue(of: group))],
            groupId: group.groupId, nowMs: nowMs)
    }

    /// Applies a replayed GroupMetadataValue.
    private func restore(_ group: ClassicGroup, from value: GroupMetadataValue, nowMs: Int64) {
        group.generationId = value.generation
        group.protocolType = value.protocolType.isEmpty ? nil : value.protocolType
        group.protocolName = (value.protocol?.isEmpty ?? true) ? nil : value.protocol
        let members = value.members.map { stored in
            let member = ClassicGroupMember(
                memberId: stored.memberId, groupInstanceId: stored.groupInstanceId, clientId: stored.clientId,
                clientHost: stored.clientHost,
                rebalanceTimeoutMs: stored.rebalanceTimeout > 0 ? stored.rebalanceTimeout : stored.sessionTimeout,
                sessionTimeoutMs: stored.sessionTimeout, protocolType: value.protocolType,
                protocols: group.protocolName.map { [GroupProtocol(name: $0, metadata: stored.subscription)] } ?? [],
                nowMs: nowMs)
            member.assignment = stored.assignment
            member.isNew = false
            return member
        }
        group.restoreMembers(members, leaderId: value.leader)
        let timestamp = value.currentStateTimestamp >= 0 ? value.currentStateTimestamp : nowMs
        group.restore(state: members.isEmpty ? .empty : .stable, stateTimestampMs: timestamp)
    }

    /// Forgets a group (state Dead); parked requests must already be answered.
    func removeGroup(_ group: ClassicGroup, nowMs: Int64) {
        group.transition(to: .dead, nowMs: nowMs)
        groups[group.groupId] = nil
    }

    // MARK: - Introspection (tests, diagnostics)

    /// A snapshot of one group, nil when unknown.
    func snapshot(of groupId: String) -> GroupSnapshot? {
        guard let group = groups[groupId] else { return nil }
        return GroupSnapshot(
            state: group.state, generationId: group.generationId, protocolName: group.protocolName,
            leaderId: group.leaderId, memberIds: group.orderedMembers.map(\.memberId),
            offsets: group.offsets, awaitingJoinCount: group.allMembersAwaitingJoin,
            awaitingSyncCount: group.members.values.count { $0.isAwaitingSync },
            pendingMemberCount: group.pendingMembers.count)
    }
}

/// What tests and diagnostics see of a group.
struct GroupSnapshot: Sendable, Equatable {
    var state: ClassicGroupState
    var generationId: Int32
    var protocolName: String?
    var leaderId: String?
    var memberIds: [String]
    var offsets: [TopicPartition: CommittedOffset]
    /// Members with a parked JoinGroup / SyncGroup.
    var awaitingJoinCount: Int
    var awaitingSyncCount: Int
    /// Member ids handed out with MEMBER_ID_REQUIRED, not yet used.
    var pendingMemberCount: Int
}
