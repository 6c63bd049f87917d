public import Logging
import NIOCore
import NIOPosix
import RunnelProtocol
public import RunnelStorage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The Kafka-compatible broker: opens the data directory, binds the listeners, serves requests, and shuts down
/// gracefully.
///
/// An actor because start-up and shutdown are multi-step workflows with awaits; state is re-checked after every
/// await (actors are reentrant). Lifecycle: `initial → running → shuttingDown → stopped`. Shutdown order: stop
/// accepting, wake long polls, let each connection finish what it received, stop the log cleaner, then write
/// producer snapshots, flush, write checkpoints and the clean-shutdown marker (`LogManager.close()`), and stop the
/// threads.
public actor Broker {
    private enum State {
        case initial
        case running(Running)
        case shuttingDown
        case stopped
    }

    private struct Running {
        let group: MultiThreadedEventLoopGroup
        let threadPool: NIOThreadPool
        let context: BrokerContext
        let logManager: LogManager
        let cleaner: LogCleaner
        let serverChannels: [any Channel]
        /// The metrics HTTP server, when enabled and bound.
        let metricsChannel: (any Channel)?
        let tracker: ConnectionTracker
        let periodicTasks: [RepeatedTask]
    }

    public nonisolated let configuration: BrokerConfiguration
    private nonisolated let logger: Logger
    private let clock: @Sendable () -> Int64
    private var state = State.initial
    private var stopWaiters: [CheckedContinuation<Void, Never>] = []
    /// Set when shutdown hit an error (the marker may be missing: next start recovers).
    public private(set) var shutdownFailure: String?
    /// Where `GET /metrics` is served once started (port 0 resolved); nil when `metrics.listener` is disabled or
    /// its default address could not be bound.
    public private(set) var metricsEndpoint: MetricsEndpoint?
    /// How long shutdown waits for connections to finish before closing them, ms.
    private let drainTimeoutMs: Int64 = 10_000

    public init(configuration: BrokerConfiguration, logger: Logger, clock: @escaping @Sendable () -> Int64 = wallClockMs) {
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
    }

    /// Opens storage and binds every listener. Returns the bound addresses.
    /// - Throws: `BrokerError`.
    public func start() async throws -> [BoundListener] {
        guard case .initial = state else { throw BrokerError.alreadyStarted }
        let threadPool = NIOThreadPool(numberOfThreads: max(2, min(8, System.coreCount)))
        threadPool.start()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let configuration = self.configuration
        let logger = self.logger
        let clock = self.clock
        let started = ContinuousClock.now
        let metrics = BrokerMetrics()
        let opened: (LogManager, BrokerContext)
        do {
            opened = try await threadPool.runIfActive {
                try Self.openStorage(
                    configuration: configuration, threadPool: threadPool, logger: logger, clock: clock, metrics: metrics)
            }
        } catch {
            try? await group.shutdownGracefully()
            try? await threadPool.shutdownGracefully()
            throw BrokerError.storage("\(error)")
        }
        let (logManager, context) = opened
        let tracker = ConnectionTracker()
        let dispatcher = Self.makeDispatcher(context: context)
        // The cleaner compacts `cleanup.policy=compact` logs on its own threads (log.cleaner.*); started below.
        let cleaner = LogCleaner(manager: logManager, config: configuration.cleanerConfig(), logger: logger, clock: clock)
        let collector = MetricsCollector(
            metrics: metrics, topics: context.topics, readCache: logManager.readCache, cleaner: cleaner,
            connections: tracker, started: started)
        var channels: [any Channel] = []
        var bound: [BoundListener] = []
        var metricsChannel: (any Channel)?
        var metricsEndpoint: MetricsEndpoint?
        do {
            for listener in configuration.listeners {
                let host = listener.host.isEmpty ? "0.0.0.0" : listener.host
                let channel = try await Self.bootstrap(
                    group: group, dispatcher: dispatcher, tracker: tracker,
                    maxFrameBytes: configuration.socketRequestMaxBytes,
                    maxIdleMs: configuration.connectionsMaxIdleMs, logger: logger, metrics: metrics
                ).bind(host: host, port: listener.port).get()
                channels.append(channel)
                let address = channel.localAddress
                bound.append(BoundListener(listener: listener, host: address?.ipAddress ?? host, port: address?.port ?? listener.port))
            }
            if let address = configuration.metricsListener {
                do {
                    (metricsChannel, metricsEndpoint) = try await MetricsServer.bind(
                        address, group: group, render: { await collector.render() },
                        isShuttingDown: { context.isShuttingDown })
                } catch where !configuration.metricsListenerIsExplicit {
                    logger.warning(
                        "metrics endpoint not started (set metrics.listener to choose another address, or none)",
                        metadata: ["metrics.listener": "\(address)", "error": "\(error)"])
                } catch {
                    throw BrokerError.bind(listener: "metrics.listener=\(address)", reason: "\(error)")
                }
            }
        } catch {
            for channel in channels { try? await channel.close() }
            try? await metricsChannel?.close()
            try? await threadPool.runIfActive { try logManager.close() }
            try? await group.shutdownGracefully()
            try? await threadPool.shutdownGracefully()
            if let error = error as? BrokerError, case .bind = error { throw error }
            throw BrokerError.bind(listener: configuration.listeners.map(\.description).joined(separator: ","), reason: "\(error)")
        }
        context.setAdvertisedEndpoints(Self.advertised(bound: bound, configuration: configuration))
        let tasks = Self.schedulePeriodicWork(group: group, context: context, logManager: logManager)
        cleaner.start()
        state = .running(
            Running(
                group: group, threadPool: threadPool, context: context, logManager: logManager, cleaner: cleaner,
                serverChannels: channels, metricsChannel: metricsChannel, tracker: tracker, periodicTasks: tasks))
        self.metricsEndpoint = metricsEndpoint
        for listener in bound {
            logger.notice(
                "listening", metadata: ["listener": "\(listener.listener.name)", "address": "\(listener.host):\(listener.port)"])
        }
        if let metricsEndpoint { logger.notice("metrics endpoint", metadata: ["url": "\(metricsEndpoint.url)"]) }
        return bound
    }

    /// Graceful shutdown; returns when stopped. Safe to call more than once.
    public func shutdown() async {
        guard case let .running(running) = state else {
            if case .shuttingDown = state { await waitUntilStopped() }
            return
        }
        state = .shuttingDown
        logger.notice("shutting down")
        for channel in running.serverChannels { try? await channel.close() }
        for task in running.periodicTasks { task.cancel() }
        running.context.beginShutdown()
        running.tracker.quiesceAll()
        let drained = await withTaskGroup(of: Bool.self) { group -> Bool in
            group.addTask {
                await running.tracker.waitUntilDrained()
                return true
            }
            group.addTask { [drainTimeoutMs] in
                try? await Task.sleep(for: .milliseconds(drainTimeoutMs))
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        if !drained {
            logger.warning("connections did not finish in time; closing them")
            running.tracker.closeAll()
            await running.tracker.waitUntilDrained()
        }
        // /health answered 503 while connections drained; now the metrics endpoint closes too.
        try? await running.metricsChannel?.close()
        do {
            try await running.threadPool.runIfActive {
                running.cleaner.stop()  // blocks until cleanings in progress abort
                running.context.producerStates.writeSnapshots()
                try running.logManager.close()
            }
        } catch {
            shutdownFailure = "\(error)"
            logger.error("closing storage failed", metadata: ["error": "\(error)"])
        }
        try? await running.group.shutdownGracefully()
        try? await running.threadPool.shutdownGracefully()
        state = .stopped
        logger.notice("stopped")
        let waiters = stopWaiters
        stopWaiters.removeAll()
        for waiter in waiters { waiter.resume() }
    }

    /// Fetches currently parked in a long poll (for tests and diagnostics).
    var waitingFetchCount: Int {
        guard case let .running(running) = state else { return 0 }
        return running.context.fetchWaiters.waitingCount
    }

    /// Returns once the broker has stopped (at once if it was never started).
    public func waitUntilStopped() async {
        switch state {
        case .initial, .stopped: return
        case .running, .shuttingDown: break
        }
        await withCheckedContinuation { stopWaiters.append($0) }
    }

    // MARK: - Start-up steps

    private static func openStorage(
        configuration: BrokerConfiguration, threadPool: NIOThreadPool, logger: Logger, clock: @escaping @Sendable () -> Int64,
        metrics: BrokerMetrics
    ) throws -> (LogManager, BrokerContext) {
        let directory = configuration.logDirectory
        try FileIO.createDirectories(directory)
        let defaults = try configuration.defaultLogConfig()
        let logManager = try LogManager(
            directory: directory, defaultConfig: defaults, logger: logger, clock: clock,
            readCacheBytes: configuration.logCacheMaxBytes)
        do {
            let store = try TopicStore(directory: directory)
            let topics = TopicManager(store: store, logManager: logManager, defaultLogConfig: defaults, logger: logger)
            try topics.reconcile()
            let producerStates = ProducerStateRegistry(directory: directory, logger: logger)
            for log in logManager.allLogs() { producerStates.load(log) }
            let producerIds = try ProducerIdAllocator(directory: directory)
            let clusterId = configuration.clusterId ?? Self.readClusterId(directory: directory) ?? "runnel-cluster"
            let context = BrokerContext(
                configuration: configuration, clusterId: clusterId, topics: topics, producerStates: producerStates,
                producerIds: producerIds, threadPool: threadPool, logger: logger, clock: clock, metrics: metrics)
            logger.info(
                "storage open",
                metadata: ["log.dir": "\(directory)", "topics": "\(store.allTopics().count)", "cluster.id": "\(clusterId)"])
            return (logManager, context)
        } catch {
            try? logManager.close()
            throw error
        }
    }

    /// `cluster.id` from the directory's `meta.properties` (written by the storage layer).
    private static func readClusterId(directory: String) -> String? {
        guard let text = try? FileIO.readText(path: directory + "/meta.properties"),
            let properties = try? PropertiesFile(parsing: text).dictionary
        else { return nil }
        return properties["cluster.id"].flatMap { $0.isEmpty ? nil : $0 }
    }

    static func makeDispatcher(context: BrokerContext) -> RequestDispatcher {
        var handlers: [AnyApiHandler] = [
            ProduceHandler(broker: context).erased,
            FetchHandler(broker: context).erased,
            AnyApiHandler(ListOffsetsHandler(broker: context)),
            AnyApiHandler(MetadataHandler(broker: context)),
            AnyApiHandler(CreateTopicsHandler(broker: context)),
            AnyApiHandler(DeleteTopicsHandler(broker: context)),
            AnyApiHandler(DeleteRecordsHandler(broker: context)),
            AnyApiHandler(InitProducerIdHandler(broker: context)),
            AnyApiHandler(DescribeConfigsHandler(broker: context)),
            AnyApiHandler(AlterConfigsHandler(broker: context)),
            AnyApiHandler(CreatePartitionsHandler(broker: context)),
            AnyApiHandler(IncrementalAlterConfigsHandler(broker: context)),
            AnyApiHandler(DescribeClusterHandler(broker: context)),
            AnyApiHandler(DescribeLogDirsHandler(broker: context)),
            AnyApiHandler(OffsetForLeaderEpochHandler(broker: context)),
        ]
        handlers += GroupCoordinatorWiring.handlers(context: context)  // group APIs (Coordinator/)
        var advertised = handlers.map { (apiKey: $0.apiKey, versions: $0.advertisedVersions) }
        advertised.append((.apiVersions, ApiVersionsHandler.versions))
        advertised.sort { $0.apiKey.rawValue < $1.apiKey.rawValue }
        handlers.append(AnyApiHandler(ApiVersionsHandler(advertised: advertised)))
        return RequestDispatcher(handlers: handlers)
    }

    private static func bootstrap(
        group: MultiThreadedEventLoopGroup, dispatcher: RequestDispatcher, tracker: ConnectionTracker,
        maxFrameBytes: Int, maxIdleMs: Int64, logger: Logger, metrics: BrokerMetrics
    ) -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if maxIdleMs > 0 {
                        // Fires IdleStateEvent after maxIdleMs with nothing read or written; the connection
                        // handler closes the connection then (connections.max.idle.ms).
                        try channel.pipeline.syncOperations.addHandler(
                            IdleStateHandler(allTimeout: .milliseconds(maxIdleMs)))
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(KafkaFrameDecoder(maximumFrameBytes: maxFrameBytes)))
                    try channel.pipeline.syncOperations.addHandler(
                        KafkaConnectionHandler(
                            dispatcher: dispatcher, connectionTracker: tracker, logger: logger, metrics: metrics))
                }
            }
    }

    /// Advertised endpoints: `advertised.listeners` entries by listener name, else the bound address (a wildcard
    /// bind advertises 127.0.0.1).
    private static func advertised(bound: [BoundListener], configuration: BrokerConfiguration) -> [AdvertisedEndpoint] {
        bound.map { listener in
            if let explicit = configuration.advertisedListeners.first(where: { $0.name == listener.listener.name }) {
                let port = explicit.port == 0 ? listener.port : explicit.port
                return AdvertisedEndpoint(listenerName: explicit.name, host: explicit.host, port: Int32(clamping: port))
            }
            var host = listener.listener.host
            if host.isEmpty || host == "0.0.0.0" || host == "::" { host = "127.0.0.1" }
            return AdvertisedEndpoint(listenerName: listener.listener.name, host: host, port: Int32(clamping: listener.port))
        }
    }

    /// Retention, checkpoints, producer snapshots and expiry, each on the thread pool.
    private static func schedulePeriodicWork(group: MultiThreadedEventLoopGroup, context: BrokerContext, logManager: LogManager)
        -> [RepeatedTask]
    {
        let loop = group.next()
        let configuration = context.configuration
        let retentionMs = max(1000, configuration.logRetentionCheckIntervalMs)
        let checkpointMs = max(1000, configuration.logFlushOffsetCheckpointIntervalMs)
        let retention = loop.scheduleRepeatedAsyncTask(
            initialDelay: .milliseconds(retentionMs), delay: .milliseconds(retentionMs)
        ) { _ in
            context.runBlocking(on: loop) {
                let deleted = logManager.applyRetention(now: context.clock())
                if deleted > 0 { context.logger.info("retention deleted segments", metadata: ["segments": "\(deleted)"]) }
            }.recover { _ in }
        }
        let checkpoint = loop.scheduleRepeatedAsyncTask(
            initialDelay: .milliseconds(checkpointMs), delay: .milliseconds(checkpointMs)
        ) { _ in
            context.runBlocking(on: loop) {
                do {
                    try logManager.writeCheckpoints()
                } catch {
                    context.logger.warning("checkpoint write failed", metadata: ["error": "\(error)"])
                }
                context.producerStates.writeSnapshots()
                context.producerStates.expire(now: context.clock(), expirationMs: configuration.producerIdExpirationMs)
            }.recover { _ in }
        }
        return [retention, checkpoint]
    }
}
