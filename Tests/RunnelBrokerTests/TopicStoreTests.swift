import RunnelProtocol
import Testing

@testable import RunnelBroker

@Suite struct TopicStoreTests {
    @Test func topicNameRulesFollowKafka() {
        #expect(TopicName.validationError("orders") == nil)
        #expect(TopicName.validationError("a.b_c-D9") == nil)
        #expect(TopicName.validationError(String(repeating: "x", count: 249)) == nil)
        #expect(TopicName.validationError(String(repeating: "x", count: 250)) != nil)
        #expect(TopicName.validationError("") != nil)
        #expect(TopicName.validationError(".") != nil)
        #expect(TopicName.validationError("..") != nil)
        #expect(TopicName.validationError("has space") != nil)
        #expect(TopicName.validationError("slash/name") != nil)
        #expect(TopicName.validationError("ünïcode") != nil)
    }

    @Test func topicsSurviveReloadWithTheirIdsAndConfigs() throws {
        let directory = try TemporaryDirectory()
        let id: KafkaUUID
        do {
            let store = try TopicStore(directory: directory.path)
            let created = try store.create("orders", partitionCount: 3, configs: ["retention.ms": "1000"])
            id = created.topicId
            try store.create("logs", partitionCount: 1, configs: [:])
            try store.remove("logs")
        }
        let reloaded = try TopicStore(directory: directory.path)
        #expect(reloaded.allTopics().map(\.name) == ["orders"])
        let orders = try #require(reloaded.topic("orders"))
        #expect(orders.topicId == id)
        #expect(orders.partitionCount == 3)
        #expect(orders.configs == ["retention.ms": "1000"])
        #expect(!FileIO.fileExists(reloaded.path + ".tmp"), "the temporary file is renamed away")
    }

    @Test func creatingRejectsDuplicatesCollisionsBadNamesAndPartitions() throws {
        let directory = try TemporaryDirectory()
        let store = try TopicStore(directory: directory.path)
        try store.create("a.b", partitionCount: 1, configs: [:])
        #expect(throws: TopicError.alreadyExists("a.b")) { try store.create("a.b", partitionCount: 1, configs: [:]) }
        #expect(throws: TopicError.self) { try store.create("a_b", partitionCount: 1, configs: [:]) }
        #expect(throws: TopicError.self) { try store.create("bad name", partitionCount: 1, configs: [:]) }
        #expect(throws: TopicError.self) { try store.create("zero", partitionCount: 0, configs: [:]) }
        #expect(store.allTopics().count == 1)
    }

    @Test func aCorruptTableIsReportedNotIgnored() throws {
        let directory = try TemporaryDirectory()
        try FileIO.writeAtomically(path: directory.path + "/" + TopicStore.fileName, bytes: Array("{not json".utf8))
        #expect(throws: TopicError.self) { try TopicStore(directory: directory.path) }
    }

    @Test func uuidTextFormRoundTrips() throws {
        for _ in 0..<100 {
            let id = KafkaUUID.random()
            #expect(!id.description.hasPrefix("-"))
            #expect(KafkaUUID(kafkaString: id.description) == id)
        }
    }
}
