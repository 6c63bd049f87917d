import NIOCore
import RunnelProtocol
import Testing

@testable import RunnelBroker

/// The classic group state machine: join/sync barriers, heartbeats, timeouts, leaving, static membership.
@Suite struct GroupCoordinatorRebalanceTests {
    @Test func twoMembersJoinLeaderGetsMemberListAndSyncHandsOutAssignments() async throws {
        let clock = CoordinatorTestClock()
        let coordinator = try await makeCoordinator(config: coordinatorTestConfig(initialDelayMs: 100), clock: clock)
        let first = await coordinator.startJoin(joinRequest(topics: ["t"]), version: 3, clientId: "alpha")
        await waitForParkedJoins(coordinator, count: 1)
        let second = await coordinator.startJoin(joinRequest(topics: ["t", "orders"]), version: 3, clientId: "beta")
        await waitForParkedJoins(coordinator, count: 2)
        #expect(await coordinator.snapshot(of: "g")?.state == .preparingRebalance)

        // The initial delay is extended once because a second member arrived during it.
        clock.advance(by: 100)
        await coordinator.tick()
        #expect(await coordinator.snapshot(of: "g")?.state == .preparingRebalance)
        clock.advance(by: 100)
        await coordinator.tick()

        let leader = await first.value
        let follower = await second.value
        #expect(leader.errorCode == 0 && follower.errorCode == 0)
        #expect(leader.generationId == 1 && follower.generationId == 1)
        #expect(leader.memberId.hasPrefix("alpha-") && leader.memberId.count == "alpha-".count + 36)
        #expect(follower.memberId.hasPrefix("beta-"))
        #expect(leader.leader == leader.memberId && follower.leader == leader.memberId)
        #expect(leader.protocolName == "range")
        #expect(leader.members.map(\.memberId) == [leader.memberId, follower.memberId])
        #expect(leader.members.map(\.metadata) == [subscription(["t"]), subscription(["t", "orders"])])
        #expect(follower.members.isEmpty)
        #expect(await coordinator.snapshot(of: "g")?.state == .completingRebalance)

        // The follower's SyncGroup waits for the leader's.
        let followerSync = await coordinator.startSync(generation: 1, memberId: follower.memberId, version: 5)
        await waitForParkedSyncs(coordinator, count: 1)
        let leaderSync = await coordinator.startSync(
            generation: 1, memberId: leader.memberId,
            assignments: [(leader.memberId, assignment("t", [0])), (follower.memberId, assignment("orders", [0, 1]))]
        ).value
        #expect(leaderSync.errorCode == 0 && leaderSync.assignment == assignment("t", [0]))
        let synced = await followerSync.value
        #expect(synced.errorCode == 0 && synced.assignment == assignment("orders", [0, 1]))
        #expect(synced.protocolType == "consumer" && synced.protocolName == "range")
        #expect(await coordinator.snapshot(of: "g")?.state == .stable)
        #expect(await coordinator.heartbeat(generation: 1, memberId: follower.memberId) == 0)
    }

    @Test func firstJoinV4RequiresMemberIdAndRejoinWithItSucceeds() async throws {
        let clock = CoordinatorTestClock()
        let coordinator = try await makeCoordinator(clock: clock)
        let first = await coordinator.handleJoinGroup(joinRequest(), version: 4, clientId: "app", clientHost: "/h")
        #expect(first.errorCode == GroupErrorCode.memberIdRequired.code)
        #expect(first.memberId.hasPrefix("app-"))
        #expect(await coordinator.snapshot(of: "g")?.pendingMemberCount == 1)
        #expect(await coordinator.snapshot(of: "g")?.memberIds == [])

        let second = await coordinator.handleJoinGroup(
            joinRequest(memberId: first.memberId), version: 4, clientId: "app", clientHost: "/h")
        #expect(second.errorCode == 0)
        #expect(second.memberId == first.memberId && second.leader == first.memberId && second.generationId == 1)
        #expect(await coordinator.snapshot(of: "g")?.pendingMemberCount == 0)

        // A pending id nobody uses expires after the session timeout.
        let unused = await coordinator.handleJoinGroup(
            joinRequest(group: "h"), version: 7, clientId: "app", clientHost: "/h")
        #expect(unused.errorCode == GroupErrorCode.memberIdRequired.code)
        clock.advance(by: 10_001)
        await coordinator.tick()
        #expect(await coordinator.snapshot(of: "h")?.pendingMemberCount == 0)
        // Versions 0–3 add the member directly.
        let old = await coordinator.handleJoinGroup(
            joinRequest(group: "k"), version: 3, clientId: "app", clientHost: "/h")
        #expect(old.errorCode == 0 && old.generationId == 1)
    }

    @Test func heartbeatReportsRebalanceUnknownMemberAndIllegalGeneration() async throws {
        let clock = CoordinatorTestClock()
        let coordinator = try await makeCoordinator(config: coordinatorTestConfig(initialDelayMs: 100), clock: clock)
        let joins = try await stableGroup(coordinator, clock: clock, count: 2)
        let (a, b) = (joins[0].memberId, joins[1].memberId)
        #expect(await coordinator.heartbeat(generation: 1, memberId: a) == 0)

        let late = await coordinator.startJoin(joinRequest(), version: 3, clientId: "late")
        await waitForParkedJoins(coordinator, count: 1)
        #expect(await coordinator.snapshot(of: "g")?.state == .preparingRebalance)
        #expect(await coordinator.heartbeat(generation: 1, memberId: a) == GroupErrorCode.rebalanceInProgress.code)
        #expect(await coordinator.heartbeat(generation: 1, memberId: "nobody") == GroupErrorCode.unknownMemberId.code)
        #expect(await coordinator.heartbeat(generation: 7, memberId: a) == GroupErrorCode.illegalGeneration.code)
        #expect(await coordinator.heartbeat(group: "none", generation: 1, memberId: a) == 25)
        // Sync during the join phase is refused too.
        let sync = await coordinator.startSync(generation: 1, memberId: b).value
        #expect(sync.errorCode == GroupErrorCode.rebalanceInProgress.code)

        // Everybody rejoins: the join completes at once (not leaving Empty: no initial delay).
        let rejoinA = await coordinator.startJoin(joinRequest(memberId: a), version: 3)
        let rejoinB = await coordinator.startJoin(joinRequest(memberId: b), version: 3)
        let results = [await rejoinA.value, await rejoinB.value, await late.value]
        #expect(results.allSatisfy { $0.errorCode == 0 && $0.generationId == 2 })
        #expect(results[0].members.count == 3 && results[0].leader == a)
        #expect(await coordinator.snapshot(of: "g")?.state == .completingRebalance)
    }

    @Test func sessionTimeoutEvictsSilentMemberAndTriggersRebalance() async throws {
        let clock = CoordinatorTestClock()
        let coordinator = try await makeCoordinator(config: coordinatorTestConfig(initialDelayMs: 100), clock: clock)
        let joins = try await stableGroup(coordinator, clock: clock, count: 2, sessionTimeoutMs: 10_000)
        let (a, b) = (joins[0].memberId, joins[1].memberId)
        clock.advance(by: 6000)
        #expect(await coordinator.heartbeat(generation: 1, memberId: a) == 0)
        await coordinator.tick()
        #expect(await coordinator.snapshot(of: "g")?.memberIds == [a, b])
        clock.advance(by: 6000)
        await coordinator.tick()
        #expect(await coordinator.snapshot(of: "g")?.memberIds == [a])
        #expect(await coordinator.snapshot(of: "g")?.state == .preparingRebalance)
        #expect(await coordinator.heartbeat(generation: 1, memberId: b) == GroupErrorCode.unknownMemberId.code)
        #expect(await coordinator.heartbeat(generation: 1, memberId: a) == GroupErrorCode.rebalanceInProgress.code)
        let rejoin = await coordinator.handleJoinGroup(
            joinRequest(memberId: a), version: 3, clientId: "c", clientHost: "")
        #expect(rejoin.errorCode == 0 && rejoin.generationId == 2 && rejoin.members.map(\.memberId) == [a])
    }

    @Test func leaveGroupTriggersRebalanceAndReportsUnknownMembers() async throws {
        let clock = CoordinatorTestClock()
        let coordinator = try await makeCoordinator(config: coordinatorTestConfig(initialDelayMs: 100), clock: clock)
        let joins = try await stableGroup(coordinator, clock: clock, count: 3)
        let (a, b, c) = (joins[0].memberId, joins[1].memberId, joins[2].memberId)
        let response = await coordinator.handleLeaveGroup(
            LeaveGroupRequest(groupId: "g", members: [.init(memberId: b), .init(memberId: "ghost")]), version: 3)
        #expect(response.errorCode == 0)
        #expect(response.members.map(\.errorCode) == [0, GroupErrorCode.unknownMemberId.code])
        #expect(await coordinator.snapshot(of: "g")?.state == .preparingRebalance)
        #expect(await coordinator.heartbeat(generation: 1, memberId: a) == GroupErrorCode.rebalanceInProgress.code)
        // v0 reports the member's error at the top level.
        let old = await coordinator.handleLeaveGroup(LeaveGroupRequest(groupId: "g", memberId: c), version: 0)
        #expect(old.errorCode == 0)
        let again = await coordinator.handleLeaveGroup(LeaveGroupRequest(groupId: "g", memberId: c), version: 1)
        #expect(again.errorCode == GroupErrorCode.unknownMemberId.code)
        let rejoin = await coordinator.handleJoinGroup(
            joinRequest(memberId: a), version: 3, clientId: "c", clientHost: "")
        #expect(rejoin.generationId == 2 && rejoin.members.map(\.memberId) == [a])
        // The last member leaving empties the group (and bumps the generation).
        let sync = await coordinator.startSync(generation: 2, memberId: a, assignments: [(a, assignment("t", [0]))])
            .value
        #expect(sync.errorCode == 0)
        _ = await coordinator.handleLeaveGroup(LeaveGroupRequest(groupId: "g", memberId: a), version: 2)
        #expect(await coordinator.snapshot(of: "g")?.state == .empty)
        #expect(await coordinator.snapshot(of: "g")?.generationId == 3)
    }

    @Test func staticMemberRejoinKeepsAssignmentWithoutRebalanceAndFencesOldId() async throws {
        let clock = CoordinatorTestClock()
        let coordinator = try await makeCoordinator(config: coordinatorTestConfig(initialDelayMs: 100), clock: clock)
        let joins = try await stableGroup(coordinator, clock: clock, count: 2, instanceIds: ["i-a", "i-b"])
        let (a, b) = (joins[0].memberId, joins[1].memberId)
        #expect(a.hasPrefix("i-a-") && b.hasPrefix("i-b-"))

        // The follower restarts: same instance id, empty member id. Answered at once, same generation.
        let rejoin = await coordinator.handleJoinGroup(
            joinRequest(instanceId: "i-b"), version: 5, clientId: "client-1", clientHost: "")
        #expect(rejoin.errorCode == 0 && rejoin.generationId == 1)
        #expect(rejoin.memberId != b && rejoin.memberId.hasPrefix("i-b-") && rejoin.members.isEmpty)
        #expect(await coordinator.snapshot(of: "g")?.state == .stable)
        #expect(await coordinator.snapshot(of: "g")?.generationId == 1)
        #expect(
            await coordinator.heartbeat(generation: 1, memberId: b, instanceId: "i-b")
                == GroupErrorCode.fencedInstanceId.code)
        #expect(await coordinator.heartbeat(generation: 1, memberId: rejoin.memberId, instanceId: "i-b") == 0)
        let sync = await coordinator.startSync(generation: 1, memberId: rejoin.memberId).value
        #expect(sync.errorCode == 0 && sync.assignment == assignment("t", [1]))

        // The leader restarts with JoinGroup v9: it keeps leadership and is told to skip the assignment.
        let leader = await coordinator.handleJoinGroup(
            joinRequest(instanceId: "i-a"), version: 9, clientId: "client-0", clientHost: "")
        #expect(leader.errorCode == 0 && leader.generationId == 1 && leader.skipAssignment)
        #expect(leader.leader == leader.memberId && leader.members.count == 2)
        #expect(await coordinator.snapshot(of: "g")?.state == .stable)
    }

    @Test func staleGenerationIsRejectedBySyncHeartbeatAndCommit() async throws {
        let clock = CoordinatorTestClock()
        let coordinator = try await makeCoordinator(config: coordinatorTestConfig(initialDelayMs: 100), clock: clock)
        let joins = try await stableGroup(coordinator, clock: clock, count: 2)
        let a = joins[0].memberId
        let illegal = GroupErrorCode.illegalGeneration.code
        #expect(await coordinator.startSync(generation: 0, memberId: a).value.errorCode == illegal)
        #expect(await coordinator.heartbeat(generation: 0, memberId: a) == illegal)
        #expect(await coordinator.commit(generation: 0, memberId: a, offset: 5) == illegal)
        #expect(await coordinator.commit(generation: 1, memberId: a, offset: 5) == 0)
        #expect(
            await coordinator.commit(generation: 1, memberId: "ghost", offset: 5) == GroupErrorCode.unknownMemberId.code
        )
        // A non-member commit (generation -1, no member) into an active group.
        #expect(await coordinator.commit(offset: 5) == GroupErrorCode.unknownMemberId.code)
    }

    @Test func rebalanceTimeoutRemovesMembersThatDoNotRejoin() async throws {
        let clock = CoordinatorTestClock()
        let coordinator = try await makeCoordinator(config: coordinatorTestConfig(initialDelayMs: 100), clock: clock)
        let joins = try await stableGroup(coordinator, clock: clock, count: 2, sessionTimeoutMs: 60_000)
        let (a, b) = (joins[0].memberId, joins[1].memberId)
        let late = await coordinator.startJoin(joinRequest(sessionTimeoutMs: 60_000), version: 3, clientId: "late")
        await waitForParkedJoins(coordinator, count: 1)
        let rejoinA = await coordinator.startJoin(joinRequest(memberId: a, sessionTimeoutMs: 60_000), version: 3)
        await waitForParkedJoins(coordinator, count: 2)
        clock.advance(by: 29_999)
        await coordinator.tick()
        #expect(await coordinator.snapshot(of: "g")?.state == .preparingRebalance)
        clock.advance(by: 1)
        await coordinator.tick()
        let results = [await rejoinA.value, await late.value]
        #expect(results.allSatisfy { $0.generationId == 2 })
        #expect(await coordinator.snapshot(of: "g")?.memberIds.contains(b) == false)
        #expect(await coordinator.snapshot(of: "g")?.memberIds.count == 2)
    }

    @Test func memberThatNeverSyncsIsRemovedAfterRebalanceTimeout() async throws {
        let clock = CoordinatorTestClock()
        let coordinator = try await makeCoordinator(config: coordinatorTestConfig(initialDelayMs: 100), clock: clock)
        let a = await coordinator.startJoin(joinRequest(sessionTimeoutMs: 60_000), version: 3)
        await waitForParkedJoins(coordinator, count: 1)
        let b = await coordinator.startJoin(joinRequest(sessionTimeoutMs: 60_000), version: 3)
        await waitForParkedJoins(coordinator, count: 2)
        for _ in 0..<3 {
            clock.advance(by: 100)
            await coordinator.tick()
        }
        let (leader, follower) = (await a.value, await b.value)
        let sync = await coordinator.startSync(
            generation: 1, memberId: leader.memberId, assignments: [(leader.memberId, assignment("t", [0]))]
        ).value
        #expect(sync.errorCode == 0)
        // Followers left out of the leader's map get an empty assignment.
        let followerSync = await coordinator.startSync(generation: 1, memberId: follower.memberId).value
        #expect(followerSync.errorCode == 0 && followerSync.assignment.readableBytes == 0)

        // Next generation: the follower never sends SyncGroup.
        let rejoinLeader = await coordinator.startJoin(
            joinRequest(memberId: leader.memberId, sessionTimeoutMs: 60_000), version: 3)
        await waitForParkedJoins(coordinator, count: 1)
        let rejoinFollower = await coordinator.startJoin(
            joinRequest(memberId: follower.memberId, sessionTimeoutMs: 60_000), version: 3)
        #expect(await rejoinLeader.value.generationId == 2)
        #expect(await rejoinFollower.value.generationId == 2)
        let leaderSync = await coordinator.startSync(generation: 2, memberId: leader.memberId).value
        #expect(leaderSync.errorCode == 0)
        clock.advance(by: 30_000)
        await coordinator.tick()
        #expect(await coordinator.snapshot(of: "g")?.memberIds == [leader.memberId])
        #expect(await coordinator.snapshot(of: "g")?.state == .preparingRebalance)
    }

    @Test func joinValidationErrors() async throws {
        let coordinator = try await makeCoordinator()
        func join(_ request: JoinGroupRequest, version: Int16 = 3) async -> Int16 {
            await coordinator.handleJoinGroup(request, version: version, clientId: "c", clientHost: "").errorCode
        }
        #expect(await join(joinRequest(group: "")) == GroupErrorCode.invalidGroupId.code)
        #expect(await join(joinRequest(sessionTimeoutMs: 5)) == GroupErrorCode.invalidSessionTimeout.code)
        #expect(await join(joinRequest(memberId: "stranger")) == GroupErrorCode.unknownMemberId.code)
        #expect(await join(joinRequest(protocols: [])) == GroupErrorCode.inconsistentGroupProtocol.code)
        #expect(await join(joinRequest()) == 0)
        #expect(await join(joinRequest(protocols: ["roundrobin"])) == GroupErrorCode.inconsistentGroupProtocol.code)
        #expect(await coordinator.snapshot(of: "")?.state == nil)
    }

    @Test func protocolSelectionPicksTheProtocolMostMembersPrefer() async throws {
        let clock = CoordinatorTestClock()
        let coordinator = try await makeCoordinator(config: coordinatorTestConfig(initialDelayMs: 100), clock: clock)
        let preferences = [["range", "roundrobin"], ["roundrobin", "range"], ["roundrobin", "range", "sticky"]]
        var tasks: [Task<JoinGroupResponse, Never>] = []
        for (index, protocols) in preferences.enumerated() {
            tasks.append(await coordinator.startJoin(joinRequest(protocols: protocols), version: 3))
            await waitForParkedJoins(coordinator, count: index + 1)
        }
        for _ in 0..<3 {
            clock.advance(by: 100)
            await coordinator.tick()
        }
        for task in tasks { #expect(await task.value.protocolName == "roundrobin") }
    }

    @Test func fiftyMembersStabiliseInOneRebalance() async throws {
        let clock = CoordinatorTestClock()
        let coordinator = try await makeCoordinator(config: coordinatorTestConfig(initialDelayMs: 100), clock: clock)
        let joins = try await stableGroup(coordinator, clock: clock, count: 50)
        #expect(joins.allSatisfy { $0.generationId == 1 })
        #expect(Set(joins.map(\.memberId)).count == 50)
        #expect(joins[0].members.count == 50)
        #expect(joins.dropFirst().allSatisfy { $0.members.isEmpty })
        let snapshot = await coordinator.snapshot(of: "g")
        #expect(snapshot?.state == .stable && snapshot?.generationId == 1)
    }

    @Test func shutdownAnswersParkedJoinsWithNotCoordinator() async throws {
        let coordinator = try await makeCoordinator(config: coordinatorTestConfig(initialDelayMs: 100))
        let parked = await coordinator.startJoin(joinRequest(), version: 3)
        await waitForParkedJoins(coordinator, count: 1)
        await coordinator.shutdown()
        #expect(await parked.value.errorCode == GroupErrorCode.notCoordinator.code)
        #expect(await coordinator.heartbeat(generation: 1, memberId: "x") == GroupErrorCode.notCoordinator.code)
    }
}
