import Logging
import NIOCore
import RunnelProtocol
import RunnelStorage

/// An `ApiHandler` that forwards one group API to the `GroupCoordinator` actor.
///
/// The event loop never waits: the request is handed to the actor through `completeWithTask`, and the future
/// completes (on the connection's loop) when the coordinator answers — for JoinGroup/SyncGroup possibly much
/// later, when the rebalance barrier opens. Other requests on the connection are unaffected.
struct GroupApiHandler<Request: KafkaRequestMessage>: ApiHandler {
    let advertisedVersions: ClosedRange<Int16>
    let body: @Sendable (Request, RequestContext) async -> Request.Response

    func handle(_ request: Request, context: RequestContext) -> EventLoopFuture<Request.Response?> {
        let promise = context.eventLoop.makePromise(of: Request.Response?.self)
        promise.completeWithTask { await body(request, context) }
        return promise.futureResult
    }
}

/// Builds the group coordinator for a broker and the handlers of the group APIs (KAFKA-FORMATS §12 versions).
enum GroupCoordinatorWiring {
    /// Creates the coordinator over `__consumer_offsets`, starts loading it and its timers, and returns the
    /// handlers for FindCoordinator, JoinGroup, Heartbeat, LeaveGroup, SyncGroup, DescribeGroups, ListGroups,
    /// OffsetCommit, OffsetFetch, DeleteGroups and OffsetDelete.
    ///
    /// Until the replay finishes, group APIs answer COORDINATOR_LOAD_IN_PROGRESS (clients retry). The background
    /// task (topic creation and replay on the thread pool, then the timer loop) ends by itself once the broker
    /// begins shutting down, answering parked joins/syncs with NOT_COORDINATOR so connections can drain.
    static func handlers(context: BrokerContext) -> [AnyApiHandler] {
        let config = GroupCoordinatorConfig(brokerConfiguration: context.configuration)
        let topics = context.topics
        let offsetsLog = StorageOffsetsLog(
            topics: topics, partitionCount: config.offsetsTopicPartitions,
            segmentBytes: config.offsetsTopicSegmentBytes, logger: context.logger, clock: context.clock)
        let coordinator = GroupCoordinator(
            config: config, offsetsLog: offsetsLog, logger: context.logger, clock: context.clock,
            partitionExists: { topic, partition in
                topics.log(TopicPartition(topic: topic, partition: partition)) != nil
            })
        context.metrics.observe(groups: coordinator)  // runnel_group_* gauges (Metrics/)
        start(coordinator, offsetsLog: offsetsLog, config: config, context: context)
        return handlers(coordinator: coordinator, offsetsLog: offsetsLog, context: context)
    }

    /// The handlers over an existing coordinator.
    static func handlers(
        coordinator: GroupCoordinator, offsetsLog: StorageOffsetsLog, context broker: BrokerContext
    ) -> [AnyApiHandler] {
        [
            AnyApiHandler(
                GroupApiHandler<FindCoordinatorRequest>(advertisedVersions: 0...6) { request, context in
                    // Kafka creates `__consumer_offsets` on the first FindCoordinator.
                    var available = true
                    if !offsetsLog.topicExists {
                        do {
                            try await broker.threadPool.runIfActive { try offsetsLog.prepare() }
                        } catch {
                            broker.logger.warning(
                                "cannot create __consumer_offsets", metadata: ["error": "\(error)"])
                            available = false
                        }
                    }
                    let endpoint = broker.primaryEndpoint
                    return coordinator.handleFindCoordinator(
                        request, version: context.version, nodeId: broker.nodeId, host: endpoint.host,
                        port: endpoint.port, available: available)
                }),
            AnyApiHandler(
                GroupApiHandler<JoinGroupRequest>(advertisedVersions: 0...9) { request, context in
                    await coordinator.handleJoinGroup(
                        request, version: context.version, clientId: context.header.clientId,
                        clientHost: context.clientHost)
                }),
            AnyApiHandler(
                GroupApiHandler<HeartbeatRequest>(advertisedVersions: 0...4) { request, context in
                    await coordinator.handleHeartbeat(request, version: context.version)
                }),
            AnyApiHandler(
                GroupApiHandler<LeaveGroupRequest>(advertisedVersions: 0...5) { request, context in
                    await coordinator.handleLeaveGroup(request, version: context.version)
                }),
            AnyApiHandler(
                GroupApiHandler<SyncGroupRequest>(advertisedVersions: 0...5) { request, context in
                    await coordinator.handleSyncGroup(request, version: context.version)
                }),
            AnyApiHandler(
                GroupApiHandler<DescribeGroupsRequest>(advertisedVersions: 0...5) { request, context in
                    await coordinator.handleDescribeGroups(request, version: context.version)
                }),
            AnyApiHandler(
                GroupApiHandler<ListGroupsRequest>(advertisedVersions: 0...5) { request, context in
                    await coordinator.handleListGroups(request, version: context.version)
                }),
            AnyApiHandler(
                GroupApiHandler<OffsetCommitRequest>(advertisedVersions: 2...9) { request, context in
                    await coordinator.handleOffsetCommit(request, version: context.version)
                }),
            AnyApiHandler(
                GroupApiHandler<OffsetFetchRequest>(advertisedVersions: 1...9) { request, context in
                    await coordinator.handleOffsetFetch(request, version: context.version)
                }),
            AnyApiHandler(
                GroupApiHandler<DeleteGroupsRequest>(advertisedVersions: 0...2) { request, context in
                    await coordinator.handleDeleteGroups(request, version: context.version)
                }),
            AnyApiHandler(
                GroupApiHandler<OffsetDeleteRequest>(advertisedVersions: 0...0) { request, context in
                    await coordinator.handleOffsetDelete(request, version: context.version)
                }),
        ]
    }

    /// Replays `__consumer_offsets` (if it exists) off the cooperative pool, then runs the coordinator's timers until the
    /// broker shuts down.
    ///
    /// An unstructured task because the broker has no service group yet; its lifetime is bounded by
    /// `BrokerContext.isShuttingDown`, which `runTimers` polls every tick.
    private static func start(
        _ coordinator: GroupCoordinator, offsetsLog: StorageOffsetsLog, config: GroupCoordinatorConfig,
        context: BrokerContext
    ) {
        let partitionCount = config.offsetsTopicPartitions
        Task {
            do {
                let partitions = try await context.threadPool.runIfActive {
                    guard offsetsLog.topicExists else { return [[ByteBuffer]]() }
                    try offsetsLog.prepare()  // checks the partition count
                    return try (0..<partitionCount).map { try offsetsLog.readAll(partition: $0) }
                }
                await coordinator.load(partitions: partitions)
            } catch {
                context.logger.error("cannot load __consumer_offsets", metadata: ["error": "\(error)"])
                await coordinator.failLoad()
                return
            }
            await coordinator.runTimers(stopWhen: { context.isShuttingDown })
        }
    }
}
