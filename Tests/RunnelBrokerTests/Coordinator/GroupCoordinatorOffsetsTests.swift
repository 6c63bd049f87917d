import NIOCore
import RunnelProtocol
import RunnelStorage
import Testing

@testable import RunnelBroker

/// Offsets (commit, fetch, delete, expiry), admin APIs, and persistence to `__consumer_offsets`.
@Suite struct GroupCoordinatorOffsetsTests {
    @Test func standaloneCommitThenFetchReturnsOffsetMetadataAndMinusOneForMissing() async throws {
        let coordinator = try await makeCoordinator()
        #expect(await coordinator.commit(group: "s", partition: 3, offset: 42, metadata: "hello") == 0)
        let request = OffsetFetchRequest(
            groupId: "s",
            topics: [.init(name: "t", partitionIndexes: [3, 4]), .init(name: "x", partitionIndexes: [0])])
        let response = await coordinator.handleOffsetFetch(request, version: 5)
        #expect(response.errorCode == 0)
        let t = try #require(response.topics.first)
        #expect(t.partitions.map(\.committedOffset) == [42, -1])
        #expect(t.partitions.map(\.metadata) == ["hello", ""])
        #expect(response.topics.last?.partitions.first?.committedOffset == -1)
        // Unknown groups read as "no offsets", not as an error.
        #expect(await coordinator.committed(group: "nobody") == -1)
        // Null metadata is stored as "".
        #expect(await coordinator.commit(group: "s", partition: 4, offset: 7, metadata: nil) == 0)
        let all = await coordinator.handleOffsetFetch(OffsetFetchRequest(groupId: "s", topics: nil), version: 7)
        #expect(all.topics.map(\.name) == ["t"])
        #expect(all.topics.first?.partitions.map(\.partitionIndex) == [3, 4])
        #expect(all.topics.first?.partitions.map(\.metadata) == ["hello", ""])
        #expect(await coordinator.snapshot(of: "s")?.state == .empty)
    }

    @Test func commitRejectsUnknownPartitionsAndOversizedMetadata() async throws {
        let coordinator = try await makeCoordinator()
        #expect(await coordinator.commit(topic: "missing", offset: 1) == GroupErrorCode.unknownTopicOrPartition.code)
        #expect(await coordinator.commit(partition: 10, offset: 1) == GroupErrorCode.unknownTopicOrPartition.code)
        let big = String(repeating: "m", count: 4097)
        #expect(await coordinator.commit(offset: 1, metadata: big) == GroupErrorCode.offsetMetadataTooLarge.code)
        #expect(await coordinator.commit(offset: 1, metadata: String(repeating: "m", count: 4096)) == 0)
        #expect(await coordinator.commit(group: "", offset: 1) == GroupErrorCode.invalidGroupId.code)
        // A member commit to a group that does not exist.
        #expect(await coordinator.commit(group: "new", generation: 3, memberId: "m", offset: 1, version: 8) == 22)
        #expect(await coordinator.commit(group: "new", generation: 3, memberId: "m", offset: 1, version: 9) == 69)
    }

    @Test func commitFailsWholeWhenTheOffsetsLogFails() async throws {
        let log = InMemoryOffsetsLog()
        let coordinator = try await makeCoordinator(log: log)
        log.setFailAppends(true)
        #expect(await coordinator.commit(offset: 9) == GroupErrorCode.coordinatorNotAvailable.code)
        #expect(await coordinator.committed() == -1)
        log.setFailAppends(false)
        #expect(await coordinator.commit(offset: 9) == 0)
        #expect(await coordinator.committed() == 9)
    }

    @Test func commitDuringCompletingRebalanceAsksToRejoin() async throws {
        let coordinator = try await makeCoordinator()
        let join = await coordinator.handleJoinGroup(joinRequest(), version: 3, clientId: "c", clientHost: "")
        #expect(await coordinator.snapshot(of: "g")?.state == .completingRebalance)
        #expect(
            await coordinator.commit(generation: 1, memberId: join.memberId, offset: 1)
                == GroupErrorCode.rebalanceInProgress.code)
    }

    @Test func offsetFetchV8FetchesSeveralGroups() async throws {
        let coordinator = try await makeCoordinator()
        #expect(await coordinator.commit(group: "a", offset: 1) == 0)
        #expect(await coordinator.commit(group: "b", topic: "orders", partition: 2, offset: 2) == 0)
        let request = OffsetFetchRequest(groups: [
            .init(groupId: "a", topics: [.init(name: "t", partitionIndexes: [0])]),
            .init(groupId: "b", topics: nil),
            .init(groupId: "c", topics: nil),
        ])
        let response = await coordinator.handleOffsetFetch(request, version: 8)
        #expect(response.groups.map(\.groupId) == ["a", "b", "c"])
        #expect(response.groups[0].topics.first?.partitions.first?.committedOffset == 1)
        #expect(response.groups[1].topics.first?.name == "orders")
        #expect(response.groups[1].topics.first?.partitions.first?.committedOffset == 2)
        #expect(response.groups[2].topics.isEmpty && response.groups[2].errorCode == 0)
    }

    @Test func deleteGroupsRemovesEmptyGroupsOnly() async throws {
        let clock = CoordinatorTestClock()
        let log = InMemoryOffsetsLog()
        let coordinator = try await makeCoordinator(
            config: coordinatorTestConfig(initialDelayMs: 100), log: log, clock: clock)
        _ = try await stableGroup(coordinator, clock: clock, count: 1)
        #expect(await coordinator.commit(group: "s", offset: 5) == 0)
        let response = await coordinator.handleDeleteGroups(
            DeleteGroupsRequest(groupsNames: ["g", "s", "unknown"]), version: 2)
        #expect(
            response.results.map(\.errorCode) == [
                GroupErrorCode.nonEmptyGroup.code, 0, GroupErrorCode.groupIdNotFound.code,
            ])
        #expect(await coordinator.snapshot(of: "s") == nil)
        #expect(await coordinator.committed(group: "s") == -1)
        // The deletion is durable: tombstones for the offset and the group.
        let partition = OffsetsTopicPartitioner.partition(for: "s", partitionCount: 50)
        let batches = try log.readAll(partition: partition)
        let records = try OffsetsTopicRecords.decode(batches: try #require(batches.last)) { _ in }
        #expect(records.count == 2)
        if case .offsetCommit(let group, _, let offset) = records.first {
            #expect(group == "s" && offset == nil)
        } else {
            Issue.record("expected an offset tombstone")
        }
        if case .groupMetadata(let group, let value) = records.last {
            #expect(group == "s" && value == nil)
        } else {
            Issue.record("expected a group tombstone")
        }
    }

    @Test func offsetDeleteRefusesSubscribedTopicsAndDeletesOthers() async throws {
        let clock = CoordinatorTestClock()
        let coordinator = try await makeCoordinator(config: coordinatorTestConfig(initialDelayMs: 100), clock: clock)
        let joins = try await stableGroup(coordinator, clock: clock, count: 1)
        let member = joins[0].memberId
        #expect(await coordinator.commit(generation: 1, memberId: member, topic: "t", offset: 1) == 0)
        #expect(await coordinator.commit(generation: 1, memberId: member, topic: "other", offset: 2) == 0)
        let response = await coordinator.handleOffsetDelete(
            OffsetDeleteRequest(
                groupId: "g",
                topics: [
                    .init(name: "t", partitions: [.init(partitionIndex: 0)]),
                    .init(name: "other", partitions: [.init(partitionIndex: 0)]),
                ]),
            version: 0)
        #expect(response.errorCode == 0)
        #expect(
            response.topics.map { $0.partitions.first?.errorCode } == [GroupErrorCode.groupSubscribedToTopic.code, 0])
        #expect(await coordinator.committed(topic: "t") == 1)
        #expect(await coordinator.committed(topic: "other") == -1)
        let unknown = await coordinator.handleOffsetDelete(OffsetDeleteRequest(groupId: "nope"), version: 0)
        #expect(unknown.errorCode == GroupErrorCode.groupIdNotFound.code)
    }

    @Test func offsetsOfEmptyGroupsExpireAfterRetentionAndTheGroupGoes() async throws {
        var config = coordinatorTestConfig()
        config.offsetsRetentionMs = 60_000
        config.offsetsRetentionCheckIntervalMs = 1000
        let clock = CoordinatorTestClock()
        let coordinator = try await makeCoordinator(config: config, clock: clock)
        #expect(await coordinator.commit(group: "s", offset: 3) == 0)
        clock.advance(by: 30_000)
        #expect(await coordinator.commit(group: "s", partition: 1, offset: 4) == 0)
        clock.advance(by: 30_000)
        await coordinator.tick()
        #expect(await coordinator.committed(group: "s", partition: 0) == -1)
        #expect(await coordinator.committed(group: "s", partition: 1) == 4)
        clock.advance(by: 30_000)
        await coordinator.tick()
        #expect(await coordinator.snapshot(of: "s") == nil)
    }

    @Test func subscribedOffsetsOfStableGroupsNeverExpire() async throws {
        var config = coordinatorTestConfig(initialDelayMs: 100)
        config.offsetsRetentionMs = 1000
        config.offsetsRetentionCheckIntervalMs = 100
        let clock = CoordinatorTestClock()
        let coordinator = try await makeCoordinator(config: config, clock: clock)
        let joins = try await stableGroup(coordinator, clock: clock, count: 1, sessionTimeoutMs: 60_000)
        let member = joins[0].memberId
        #expect(await coordinator.commit(generation: 1, memberId: member, topic: "t", offset: 1) == 0)
        #expect(await coordinator.commit(generation: 1, memberId: member, topic: "other", offset: 2) == 0)
        clock.advance(by: 5000)
        #expect(await coordinator.heartbeat(generation: 1, memberId: member) == 0)
        await coordinator.tick()
        #expect(await coordinator.committed(topic: "t") == 1)
        #expect(await coordinator.committed(topic: "other") == -1)
    }

    @Test func listGroupsFiltersByStateAndType() async throws {
        let clock = CoordinatorTestClock()
        let coordinator = try await makeCoordinator(config: coordinatorTestConfig(initialDelayMs: 100), clock: clock)
        _ = try await stableGroup(coordinator, clock: clock, count: 2)
        #expect(await coordinator.commit(group: "s", offset: 1) == 0)
        func list(_ states: [String] = [], types: [String] = [], version: Int16 = 5) async -> [String] {
            await coordinator.handleListGroups(
                ListGroupsRequest(statesFilter: states, typesFilter: types), version: version
            )
            .groups.map(\.groupId)
        }
        #expect(await list() == ["g", "s"])
        #expect(await list(["Stable"]) == ["g"])
        #expect(await list(["empty"]) == ["s"])
        #expect(await list(["Empty", "Stable"]) == ["g", "s"])
        #expect(await list(["Dead"]) == [])
        #expect(await list(types: ["consumer"]) == [])
        #expect(await list(types: ["Classic"]) == ["g", "s"])
        let v4 = await coordinator.handleListGroups(ListGroupsRequest(), version: 4)
        #expect(v4.groups.map(\.groupState) == ["Stable", "Empty"])
        #expect(v4.groups.map(\.protocolType) == ["consumer", ""])
        let v0 = await coordinator.handleListGroups(ListGroupsRequest(), version: 0)
        #expect(v0.groups.map(\.groupState) == ["", ""])
    }

    @Test func describeGroupsShowsMembersWithMetadataAndAssignments() async throws {
        let clock = CoordinatorTestClock()
        let coordinator = try await makeCoordinator(config: coordinatorTestConfig(initialDelayMs: 100), clock: clock)
        let joins = try await stableGroup(coordinator, clock: clock, count: 2)
        let response = await coordinator.handleDescribeGroups(DescribeGroupsRequest(groups: ["g", "nope"]), version: 5)
        let group = try #require(response.groups.first)
        #expect(group.errorCode == 0 && group.groupState == "Stable")
        #expect(group.protocolType == "consumer" && group.protocolData == "range")
        #expect(group.members.map(\.memberId) == joins.map(\.memberId))
        #expect(group.members.map(\.clientId) == ["client-0", "client-1"])
        #expect(group.members.map(\.clientHost) == ["/127.0.0.1", "/127.0.0.1"])
        #expect(group.members.map(\.memberMetadata) == [subscription(["t"]), subscription(["t"])])
        #expect(group.members.map(\.memberAssignment) == [assignment("t", [0]), assignment("t", [1])])
        #expect(response.groups.last?.groupState == "Dead" && response.groups.last?.errorCode == 0)
    }

    @Test func restartReplaysOffsetsAndGroupsFromTheOffsetsLog() async throws {
        let clock = CoordinatorTestClock()
        let log = InMemoryOffsetsLog()
        let config = coordinatorTestConfig(initialDelayMs: 100)
        let first = try await makeCoordinator(config: config, log: log, clock: clock)
        let joins = try await stableGroup(first, clock: clock, count: 2)
        let member = joins[0].memberId
        #expect(await first.commit(generation: 1, memberId: member, partition: 0, offset: 100, metadata: "m") == 0)
        #expect(await first.commit(generation: 1, memberId: member, partition: 0, offset: 150) == 0)
        #expect(await first.commit(generation: 1, memberId: member, partition: 1, offset: 7) == 0)
        #expect(await first.commit(group: "standalone", topic: "orders", partition: 2, offset: 9) == 0)
        #expect(await first.commit(group: "gone", offset: 1) == 0)
        _ = await first.handleDeleteGroups(DeleteGroupsRequest(groupsNames: ["gone"]), version: 1)
        let before = try #require(await first.snapshot(of: "g"))
        await first.shutdown()

        let second = try await makeCoordinator(config: config, log: log, clock: clock)
        #expect(await second.committed(partition: 0) == 150)
        #expect(await second.committed(partition: 1) == 7)
        #expect(await second.committed(group: "standalone", topic: "orders", partition: 2) == 9)
        #expect(await second.snapshot(of: "gone") == nil)
        let after = try #require(await second.snapshot(of: "g"))
        #expect(after.state == .stable && after.generationId == before.generationId)
        #expect(after.memberIds == before.memberIds && after.leaderId == before.leaderId)
        #expect(after.protocolName == "range")
        #expect(after.offsets == before.offsets)
        // Members that keep heartbeating keep their assignment after the restart.
        #expect(await second.heartbeat(generation: 1, memberId: member) == 0)
        let sync = await second.startSync(generation: 1, memberId: joins[1].memberId).value
        #expect(sync.errorCode == 0 && sync.assignment == assignment("t", [1]))
    }

    @Test func groupApisAnswerLoadInProgressUntilLoaded() async throws {
        let coordinator = GroupCoordinator(
            offsetsLog: InMemoryOffsetsLog(), logger: .init(label: "t"), clock: { 0 }, partitionExists: { _, _ in true }
        )
        #expect(
            await coordinator.heartbeat(generation: 1, memberId: "m") == GroupErrorCode.coordinatorLoadInProgress.code)
        #expect(await coordinator.commit(offset: 1) == GroupErrorCode.coordinatorLoadInProgress.code)
        try await coordinator.load()
        #expect(await coordinator.commit(offset: 1) == 0)
    }

    @Test func findCoordinatorAnswersWithThisBroker() async throws {
        let coordinator = try await makeCoordinator()
        let v1 = coordinator.handleFindCoordinator(
            FindCoordinatorRequest(key: "g"), version: 1, nodeId: 1, host: "localhost", port: 9092)
        #expect(v1.errorCode == 0 && v1.nodeId == 1 && v1.host == "localhost" && v1.port == 9092)
        let v4 = coordinator.handleFindCoordinator(
            FindCoordinatorRequest(keyType: 0, coordinatorKeys: ["a", "b"]), version: 4, nodeId: 1, host: "h", port: 1)
        #expect(v4.coordinators.map(\.key) == ["a", "b"] && v4.coordinators.allSatisfy { $0.nodeId == 1 })
        let share = coordinator.handleFindCoordinator(
            FindCoordinatorRequest(key: "g", keyType: 2), version: 3, nodeId: 1, host: "h", port: 1)
        #expect(share.errorCode == GroupErrorCode.invalidRequest.code)
    }
}
