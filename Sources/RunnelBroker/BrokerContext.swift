import Logging
import NIOCore
import NIOPosix
import RunnelStorage
import Synchronization

/// An endpoint clients are told to connect to (Metadata, DescribeCluster).
struct AdvertisedEndpoint: Sendable, Hashable {
    var listenerName: String
    var host: String
    var port: Int32
}

/// Shared broker state every handler uses. Thread-safe: each member is immutable or guards itself.
final class BrokerContext: Sendable {
    let configuration: BrokerConfiguration
    let nodeId: Int32
    let clusterId: String
    let topics: TopicManager
    let producerStates: ProducerStateRegistry
    let producerIds: ProducerIdAllocator
    let fetchWaiters = FetchWaiters()
    /// Request-path metrics and the registry `GET /metrics` renders.
    let metrics: BrokerMetrics
    /// Blocking work: fsync, directory creation, metadata writes.
    let threadPool: NIOThreadPool
    let logger: Logger
    /// ms since the epoch.
    let clock: @Sendable () -> Int64
    private let shuttingDown = Atomic<Bool>(false)
    /// Filled in once listeners are bound (port 0 becomes the real port).
    private let endpoints = Mutex<[AdvertisedEndpoint]>([])

    init(
        configuration: BrokerConfiguration, clusterId: String, topics: TopicManager,
        producerStates: ProducerStateRegistry, producerIds: ProducerIdAllocator, threadPool: NIOThreadPool,
        logger: Logger, clock: @escaping @Sendable () -> Int64, metrics: BrokerMetrics = BrokerMetrics()
    ) {
        self.configuration = configuration
        self.metrics = metrics
        self.nodeId = configuration.nodeId
        self.clusterId = clusterId
        self.topics = topics
        self.producerStates = producerStates
        self.producerIds = producerIds
        self.threadPool = threadPool
        self.logger = logger
        self.clock = clock
    }

    /// True once graceful shutdown began: waiting fetches answer at once.
    var isShuttingDown: Bool { shuttingDown.load(ordering: .acquiring) }

    func beginShutdown() {
        shuttingDown.store(true, ordering: .releasing)
        fetchWaiters.notifyAll()
    }

    var advertisedEndpoints: [AdvertisedEndpoint] { endpoints.withLock { $0 } }

    func setAdvertisedEndpoints(_ list: [AdvertisedEndpoint]) { endpoints.withLock { $0 = list } }

    /// The endpoint to advertise (the first listener's).
    var primaryEndpoint: AdvertisedEndpoint {
        advertisedEndpoints.first ?? AdvertisedEndpoint(listenerName: "PLAINTEXT", host: "127.0.0.1", port: 9092)
    }

    /// Runs blocking work on the thread pool; the future completes on `eventLoop`.
    func runBlocking<T: Sendable>(on eventLoop: any EventLoop, _ body: @escaping @Sendable () throws -> T)
        -> EventLoopFuture<T>
    {
        threadPool.runIfActive(eventLoop: eventLoop, body)
    }

    /// Auto-creates `name` (Metadata) when allowed; returns nil when it does not exist and may not be created.
    /// `__consumer_offsets` gets Kafka's internal settings (offsets.topic.num.partitions, compacted,
    /// offsets.topic.segment.bytes); `__transaction_state` is never created (no transactions).
    /// Blocking: thread pool only.
    func autoCreateTopic(_ name: String) throws -> TopicMetadata? {
        if let existing = topics.topic(name) { return existing }
        guard configuration.autoCreateTopicsEnable, name != "__transaction_state" else { return nil }
        var partitions = configuration.numPartitions
        var configs: [String: String] = [:]
        if name == "__consumer_offsets" {
            partitions = configuration.value(of: "offsets.topic.num.partitions").flatMap { Int32($0) } ?? 50
            configs = ["cleanup.policy": "compact", "compression.type": "producer"]
            if let segmentBytes = configuration.value(of: "offsets.topic.segment.bytes") {
                configs["segment.bytes"] = segmentBytes
            }
        }
        do throws(TopicError) {
            return try topics.createTopic(name, partitions: partitions, configs: configs)
        } catch {
            // Another request created it meanwhile: that is success.
            guard case .alreadyExists = error else { throw error }
            return topics.topic(name)
        }
    }
}
