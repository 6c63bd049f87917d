import Logging
import RunnelProtocol
import RunnelStorage
import Testing

@testable import RunnelBroker

/// The coordinator over real storage: `__consumer_offsets` on disk survives closing and reopening the directory.
@Suite struct StorageOffsetsLogTests {
    private let logger = Logger(label: "offsets-log-test") { _ in SwiftLogNoOpLogHandler() }

    private func open(_ directory: TemporaryDirectory, clock: CoordinatorTestClock) throws -> (LogManager, TopicManager)
    {
        let manager = try LogManager(
            directory: directory.path, defaultConfig: LogConfig(), logger: logger, clock: clock.function)
        let store = try TopicStore(directory: directory.path)
        let topics = TopicManager(store: store, logManager: manager, defaultLogConfig: LogConfig(), logger: logger)
        try topics.reconcile()
        return (manager, topics)
    }

    @Test func committedOffsetsAndGroupsSurviveReopeningTheDataDirectory() async throws {
        let directory = try TemporaryDirectory()
        let clock = CoordinatorTestClock()
        var config = coordinatorTestConfig(initialDelayMs: 100)
        config.offsetsTopicPartitions = 5

        let (manager, topics) = try open(directory, clock: clock)
        let log = StorageOffsetsLog(
            topics: topics, partitionCount: 5, segmentBytes: 1 << 20, logger: logger, clock: clock.function)
        // Nothing is created until the first append (or FindCoordinator): replay finds nothing.
        #expect(!log.topicExists)
        #expect(try log.readAll(partition: 0).isEmpty)
        let first = GroupCoordinator(
            config: config, offsetsLog: log, logger: logger, clock: clock.function, partitionExists: { _, _ in true })
        try await first.load()
        let joins = try await stableGroup(first, clock: clock, count: 2)
        for offset in Int64(1)...20 {
            #expect(await first.commit(generation: 1, memberId: joins[0].memberId, offset: offset) == 0)
        }
        #expect(await first.commit(group: "other", topic: "x", partition: 4, offset: 77, metadata: "meta") == 0)
        let offsetsTopic = try #require(topics.topic("__consumer_offsets"))
        #expect(offsetsTopic.partitionCount == 5 && offsetsTopic.configs["cleanup.policy"] == "compact")
        #expect(offsetsTopic.configs["segment.bytes"] == "\(1 << 20)")
        await first.shutdown()
        try manager.close()

        let (reopened, reopenedTopics) = try open(directory, clock: clock)
        defer { try? reopened.close() }
        let log2 = StorageOffsetsLog(topics: reopenedTopics, partitionCount: 5, logger: logger, clock: clock.function)
        try log2.prepare()
        let second = GroupCoordinator(
            config: config, offsetsLog: log2, logger: logger, clock: clock.function, partitionExists: { _, _ in true })
        try await second.load()
        #expect(await second.committed() == 20)
        #expect(await second.committed(group: "other", topic: "x", partition: 4) == 77)
        let snapshot = try #require(await second.snapshot(of: "g"))
        #expect(snapshot.state == .stable && snapshot.generationId == 1 && snapshot.memberIds == joins.map(\.memberId))

        // A different partition count for an existing topic is refused (it would move groups).
        let wrong = StorageOffsetsLog(topics: reopenedTopics, partitionCount: 50, logger: logger, clock: clock.function)
        #expect(throws: OffsetsLogError.self) { try wrong.prepare() }
    }
}
