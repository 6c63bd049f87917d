import NIOCore
import RunnelProtocol

/// One protocol a member supports: an assignor name and its opaque metadata (for "consumer": the version-prefixed
/// ConsumerProtocolSubscription, KAFKA-FORMATS §8.7).
struct GroupProtocol: Sendable, Equatable {
    var name: String
    var metadata: ByteBuffer
}

/// A JoinGroup request parked until the join phase completes: the response is built at that time, at `version`.
struct JoinWaiter {
    var version: Int16
    var continuation: CheckedContinuation<JoinGroupResponse, Never>
}

/// A SyncGroup request parked until the leader's assignment arrives.
struct SyncWaiter {
    var version: Int16
    var continuation: CheckedContinuation<SyncGroupResponse, Never>
}

/// A member of a classic group (Kafka's `ClassicGroupMember`).
///
/// Not `Sendable`: owned by its `ClassicGroup`, which only the `GroupCoordinator` actor touches.
/// Invariant: a parked `joinWaiter` / `syncWaiter` is resumed exactly once, by the coordinator, before it is
/// replaced or the member is dropped.
final class ClassicGroupMember {
    /// `<clientId>-<uuid>` (dynamic) or `<groupInstanceId>-<uuid>` (static).
    var memberId: String
    /// `group.instance.id` of a static member (KIP-345).
    let groupInstanceId: String?
    let clientId: String
    let clientHost: String
    /// ms; how long the coordinator waits for this member to rejoin during a rebalance.
    var rebalanceTimeoutMs: Int32
    /// ms; silence longer than this removes the member.
    var sessionTimeoutMs: Int32
    let protocolType: String
    /// In the member's order of preference.
    var protocols: [GroupProtocol]
    /// The assignment bytes from the leader's SyncGroup (empty until then).
    var assignment: ByteBuffer = ByteBuffer()
    /// Pending JoinGroup response, if the member is waiting in a join phase.
    var joinWaiter: JoinWaiter?
    /// Pending SyncGroup response, if the member is waiting for the leader.
    var syncWaiter: SyncWaiter?
    /// Session expiry, ms since the epoch. Ignored while the member waits for a join or sync response.
    var sessionDeadlineMs: Int64
    /// True until the member has been part of a completed join (it got a JoinGroup response).
    var isNew = true
    /// When the member first joined, ms since the epoch (bounds how long a new member may wait in a join phase).
    let joinedAtMs: Int64

    init(
        memberId: String, groupInstanceId: String?, clientId: String, clientHost: String, rebalanceTimeoutMs: Int32,
        sessionTimeoutMs: Int32, protocolType: String, protocols: [GroupProtocol], nowMs: Int64
    ) {
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.clientId = clientId
        self.clientHost = clientHost
        self.rebalanceTimeoutMs = rebalanceTimeoutMs
        self.sessionTimeoutMs = sessionTimeoutMs
        self.protocolType = protocolType
        self.protocols = protocols
        self.sessionDeadlineMs = nowMs + Int64(sessionTimeoutMs)
        self.joinedAtMs = nowMs
    }

    var isStatic: Bool { groupInstanceId != nil }
    var isAwaitingJoin: Bool { joinWaiter != nil }
    var isAwaitingSync: Bool { syncWaiter != nil }

    /// The metadata for protocol `name`, if the member supports it.
    func metadata(for name: String) -> ByteBuffer? {
        protocols.first { $0.name == name }?.metadata
    }

    /// Whether `protocols` are exactly the member's current ones (names, order and metadata bytes).
    func hasSameProtocols(as other: [GroupProtocol]) -> Bool { protocols == other }

    /// Re-arms the session timer (a heartbeat, join or sync was seen).
    func touch(nowMs: Int64) { sessionDeadlineMs = nowMs + Int64(sessionTimeoutMs) }

    /// Kafka's `shouldKeepAlive`: members waiting for a join or sync response are not expired by their session
    /// timer (they cannot heartbeat meanwhile), except new members parked longer than `newMemberJoinTimeoutMs`.
    func shouldKeepAlive(nowMs: Int64, newMemberJoinTimeoutMs: Int64) -> Bool {
        if isAwaitingJoin { return !isNew || joinedAtMs + newMemberJoinTimeoutMs > nowMs }
        return isAwaitingSync
    }

    /// Resumes a parked JoinGroup with `response` (built for the waiter's version).
    func resumeJoin(_ build: (Int16) -> JoinGroupResponse) {
        guard let waiter = joinWaiter else { return }
        joinWaiter = nil
        waiter.continuation.resume(returning: build(waiter.version))
    }

    /// Resumes a parked SyncGroup with `response` (built for the waiter's version).
    func resumeSync(_ build: (Int16) -> SyncGroupResponse) {
        guard let waiter = syncWaiter else { return }
        syncWaiter = nil
        waiter.continuation.resume(returning: build(waiter.version))
    }
}
