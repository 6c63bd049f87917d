import Logging
import NIOCore
import RunnelProtocol
import Synchronization
import Testing

@testable import RunnelBroker

/// A clock the coordinator tests move by hand (Kafka's MockTime).
final class CoordinatorTestClock: Sendable {
    private let now: Atomic<Int64>
    init(_ start: Int64 = 1_700_000_000_000) { now = Atomic(start) }
    var ms: Int64 { now.load(ordering: .relaxed) }
    func advance(by ms: Int64) { now.add(ms, ordering: .relaxed) }
    var function: @Sendable () -> Int64 { { [self] in ms } }
}

/// Small timeouts and delays so tests drive rebalances with a few clock steps.
func coordinatorTestConfig(initialDelayMs: Int32 = 0) -> GroupCoordinatorConfig {
    var config = GroupCoordinatorConfig()
    config.initialRebalanceDelayMs = initialDelayMs
    config.minSessionTimeoutMs = 10
    return config
}

/// A loaded coordinator over `log` where every partition of topics "t", "orders" and "other" (0–9) exists.
func makeCoordinator(
    config: GroupCoordinatorConfig = coordinatorTestConfig(), log: InMemoryOffsetsLog = InMemoryOffsetsLog(),
    clock: CoordinatorTestClock = CoordinatorTestClock()
) async throws -> GroupCoordinator {
    let coordinator = GroupCoordinator(
        config: config, offsetsLog: log, logger: Logger(label: "coordinator-test") { _ in SwiftLogNoOpLogHandler() },
        clock: clock.function,
        partitionExists: { topic, partition in ["t", "orders", "other"].contains(topic) && (0..<10).contains(partition)
        })
    try await coordinator.load()
    return coordinator
}

/// ConsumerProtocolSubscription v0 bytes subscribing to `topics`.
func subscription(_ topics: [String]) -> ByteBuffer {
    ConsumerProtocolSubscription(topics: topics).encodedWithVersionPrefix(version: 0)
}

/// ConsumerProtocolAssignment v0 bytes assigning `partitions` of `topic`.
func assignment(_ topic: String, _ partitions: [Int32]) -> ByteBuffer {
    ConsumerProtocolAssignment(assignedPartitions: [.init(topic: topic, partitions: partitions)])
        .encodedWithVersionPrefix(version: 0)
}

/// A JoinGroup request of a "consumer" member using the "range" assignor.
func joinRequest(
    group: String = "g", memberId: String = "", instanceId: String? = nil, sessionTimeoutMs: Int32 = 10_000,
    rebalanceTimeoutMs: Int32 = 30_000, topics: [String] = ["t"], protocols: [String] = ["range"]
) -> JoinGroupRequest {
    JoinGroupRequest(
        groupId: group, sessionTimeoutMs: sessionTimeoutMs, rebalanceTimeoutMs: rebalanceTimeoutMs, memberId: memberId,
        groupInstanceId: instanceId, protocolType: "consumer",
        protocols: protocols.map { .init(name: $0, metadata: subscription(topics)) })
}

extension GroupCoordinator {
    /// Joins as a new member at `version` in a child task (joins park until the join phase completes).
    func startJoin(
        _ request: JoinGroupRequest, version: Int16 = 5, clientId: String = "client"
    ) -> Task<JoinGroupResponse, Never> {
        Task { await self.handleJoinGroup(request, version: version, clientId: clientId, clientHost: "/127.0.0.1") }
    }

    func startSync(
        group: String = "g", generation: Int32, memberId: String, assignments: [(String, ByteBuffer)] = [],
        version: Int16 = 3
    ) -> Task<SyncGroupResponse, Never> {
        let request = SyncGroupRequest(
            groupId: group, generationId: generation, memberId: memberId,
            assignments: assignments.map { .init(memberId: $0.0, assignment: $0.1) })
        return Task { await self.handleSyncGroup(request, version: version) }
    }

    func heartbeat(group: String = "g", generation: Int32, memberId: String, instanceId: String? = nil) -> Int16 {
        handleHeartbeat(
            HeartbeatRequest(groupId: group, generationId: generation, memberId: memberId, groupInstanceId: instanceId),
            version: 3
        ).errorCode
    }

    /// Commits `offset` for `topic`/`partition` as (generation, member).
    func commit(
        group: String = "g", generation: Int32 = -1, memberId: String = "", topic: String = "t",
        partition: Int32 = 0, offset: Int64, metadata: String? = "", version: Int16 = 8
    ) -> Int16 {
        let request = OffsetCommitRequest(
            groupId: group, generationIdOrMemberEpoch: generation, memberId: memberId,
            topics: [
                .init(
                    name: topic,
                    partitions: [.init(partitionIndex: partition, committedOffset: offset, committedMetadata: metadata)]
                )
            ])
        return handleOffsetCommit(request, version: version).topics.first?.partitions.first?.errorCode ?? -99
    }

    /// The committed offset of `topic`/`partition` via OffsetFetch v7 (-1 when none).
    func committed(group: String = "g", topic: String = "t", partition: Int32 = 0) -> Int64 {
        let request = OffsetFetchRequest(groupId: group, topics: [.init(name: topic, partitionIndexes: [partition])])
        return handleOffsetFetch(request, version: 7).topics.first?.partitions.first?.committedOffset ?? -99
    }
}

/// Yields until `condition` holds (the child tasks of a test reach the actor); fails after many rounds.
/// No sleeping and no time involved: it only lets already-started tasks run.
func waitUntil(
    _ what: String, sourceLocation: SourceLocation = #_sourceLocation, _ condition: () async -> Bool
) async {
    for _ in 0..<100_000 {
        if await condition() { return }
        await Task.yield()
    }
    Issue.record("condition never held: \(what)", sourceLocation: sourceLocation)
}

/// Waits until `count` members of `group` have a parked JoinGroup.
func waitForParkedJoins(_ coordinator: GroupCoordinator, group: String = "g", count: Int) async {
    await waitUntil("\(count) parked joins") { await coordinator.snapshot(of: group)?.awaitingJoinCount == count }
}

/// Waits until `count` members of `group` have a parked SyncGroup.
func waitForParkedSyncs(_ coordinator: GroupCoordinator, group: String = "g", count: Int) async {
    await waitUntil("\(count) parked syncs") { await coordinator.snapshot(of: group)?.awaitingSyncCount == count }
}

/// A stable group of `count` members, each assigned partition i of "t": dynamic members join with JoinGroup v3
/// (no MEMBER_ID_REQUIRED), static ones (`instanceIds`) with v5. Needs an initial rebalance delay so all joins
/// land in one generation. Returns the join responses in join order (the first is the leader).
func stableGroup(
    _ coordinator: GroupCoordinator, clock: CoordinatorTestClock, group: String = "g", count: Int,
    instanceIds: [String]? = nil, sessionTimeoutMs: Int32 = 10_000
) async throws -> [JoinGroupResponse] {
    var tasks: [Task<JoinGroupResponse, Never>] = []
    for index in 0..<count {
        let request = joinRequest(
            group: group, instanceId: instanceIds?[index], sessionTimeoutMs: sessionTimeoutMs)
        let version: Int16 = instanceIds == nil ? 3 : 5
        tasks.append(await coordinator.startJoin(request, version: version, clientId: "client-\(index)"))
        // Keep join order deterministic: wait until this member is in the group before starting the next.
        await waitUntil("member \(index) joined") {
            let snapshot = await coordinator.snapshot(of: group)
            return (snapshot?.memberIds.count ?? 0) == index + 1 || snapshot?.state == .completingRebalance
        }
    }
    // The initial delay (coordinatorTestConfig(initialDelayMs: 100)) is extended while members arrive.
    for _ in 0..<10 where await coordinator.snapshot(of: group)?.state == .preparingRebalance {
        clock.advance(by: 100)
        await coordinator.tick()
    }
    var joins: [JoinGroupResponse] = []
    for task in tasks { joins.append(await task.value) }
    for join in joins { try #require(join.errorCode == 0) }
    guard let leader = joins.first(where: { $0.leader == $0.memberId }) else {
        Issue.record("no leader")
        return joins
    }
    let generation = leader.generationId
    var syncs: [Task<SyncGroupResponse, Never>] = []
    for join in joins where join.memberId != leader.memberId {
        syncs.append(await coordinator.startSync(group: group, generation: generation, memberId: join.memberId))
    }
    await waitForParkedSyncs(coordinator, group: group, count: count - 1)
    let assignments = joins.enumerated().map { ($0.element.memberId, assignment("t", [Int32($0.offset)])) }
    let leaderSync = await coordinator.startSync(
        group: group, generation: generation, memberId: leader.memberId, assignments: assignments
    ).value
    try #require(leaderSync.errorCode == 0)
    for sync in syncs { try #require(await sync.value.errorCode == 0) }
    try #require(await coordinator.snapshot(of: group)?.state == .stable)
    return joins
}
