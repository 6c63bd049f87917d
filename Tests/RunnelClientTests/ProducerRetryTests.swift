import Logging
import NIOCore
import RunnelBroker
import RunnelClient
import Testing

/// Producer retries: a broker restart in the middle of a run, a broker that stays away (delivery timeout),
/// a non-retriable error (no resend), and the block form of `send`.
@Suite struct ProducerRetryTests {
    /// Starts a broker on `port` (0 = any) over `directory`; returns it and the bound port.
    private static func startBroker(directory: TemporaryDirectory, port: Int) async throws -> (Broker, Int) {
        var logger = Logger(label: "runnel-producer-retry-test")
        logger.logLevel = .critical
        let configuration = try BrokerConfiguration(overrides: [
            ("listeners", "PLAINTEXT://127.0.0.1:\(port)"), ("log.dirs", directory.path),
        ])
        let broker = Broker(configuration: configuration, logger: logger)
        let bound = try await broker.start()
        return (broker, bound[0].port)
    }

    private static func readAll(_ connection: KafkaConnection, topic: String, partitions: Int32, expected: Int)
        async throws -> [String]
    {
        let consumer = KafkaConsumer(connection: connection)
        var positions: [TopicPartition: StartOffset] = [:]
        for partition in 0..<partitions { positions[TopicPartition(topic: topic, partition: partition)] = .earliest }
        try await consumer.assign(positions)
        var values: [String] = []
        var polls = 0
        while values.count < expected, polls < 300 {
            values += try await consumer.poll(maxWaitMs: 100).compactMap(\.valueString)
            polls += 1
        }
        // One more short poll: anything beyond `expected` would be a duplicate.
        values += try await consumer.poll(maxWaitMs: 200).compactMap(\.valueString)
        return values
    }

    @Test func recordsSentAcrossABrokerRestartArriveExactlyOnce() async throws {
        let directory = try TemporaryDirectory()
        var (broker, port) = try await Self.startBroker(directory: directory, port: 0)
        let address = BrokerAddress(host: "127.0.0.1", port: port)
        let admin = try await KafkaAdmin.connect(to: address)
        try await admin.createTopic("restart", partitions: 2)
        await admin.close()

        var configuration = ProducerConfiguration()
        configuration.batchSizeBytes = 4_096  // many small batches, several in flight when the broker stops
        configuration.lingerMs = 1
        configuration.deliveryTimeoutMs = 60_000
        let producer = try await KafkaProducer.connect(to: address, configuration: configuration)
        let total = 20_000
        let chunk = 500
        var restarted = false
        do {
            for start in stride(from: 0, to: total, by: chunk) {
                try await producer.send(
                    (start..<start + chunk).map { ProducerRecord(topic: "restart", key: nil, value: "r\($0)") })
                if start == total / 2 {
                    // SIGTERM-like stop (graceful shutdown), then the same port and data directory again.
                    await broker.shutdown()
                    (broker, _) = try await Self.startBroker(directory: directory, port: port)
                    restarted = true
                }
            }
        } catch {
            await broker.shutdown()
            throw error
        }
        let report = await producer.close()
        #expect(restarted)
        #expect(report.failures.isEmpty, "\(report.failures.map { $0.description })")
        #expect(report.recordsAcknowledged == total)
        #expect(report.reconnects >= 1)

        let connection = try await KafkaConnection.connect(to: address)
        let values = try await Self.readAll(connection, topic: "restart", partitions: 2, expected: total)
        await connection.close()
        await broker.shutdown()
        #expect(values.count == total)
        #expect(Set(values) == Set((0..<total).map { "r\($0)" }))
    }

    @Test func aBrokerThatStaysAwayFailsTheRecordsAfterTheDeliveryTimeout() async throws {
        let directory = try TemporaryDirectory()
        let (broker, port) = try await Self.startBroker(directory: directory, port: 0)
        let address = BrokerAddress(host: "127.0.0.1", port: port)
        let admin = try await KafkaAdmin.connect(to: address)
        try await admin.createTopic("gone", partitions: 1)
        await admin.close()
        var configuration = ProducerConfiguration()
        configuration.deliveryTimeoutMs = 800
        configuration.lingerMs = 0
        let producer = try await KafkaProducer.connect(to: address, configuration: configuration)
        try await producer.prepare(topics: ["gone"])
        await broker.shutdown()

        try await producer.send((0..<10).map { ProducerRecord(topic: "gone", key: nil, value: "g\($0)") })
        let report = await producer.close()
        #expect(report.recordsAcknowledged == 0)
        #expect(report.recordsFailed == 10)
        let failure = try #require(report.failures.first)
        #expect(failure.deliveryTimeoutMs == 800)
        #expect(failure.description.contains("delivery timeout of 800 ms expired"))
        #expect(failure.description.contains("127.0.0.1:\(port)"))
    }

    @Test func aNonRetriableErrorIsNotResentAndLaterRecordsStillLand() async throws {
        try await TestBroker.with { broker in
            let connection = try await KafkaConnection.connect(to: broker.address)
            try await KafkaAdmin(connection: connection).createTopic(
                "strict", partitions: 1, configs: ["max.message.bytes": "1000"])
            var configuration = ProducerConfiguration()
            configuration.lingerMs = 0
            let producer = try await KafkaProducer.make(connection: connection, configuration: configuration)
            try await producer.send(ProducerRecord(topic: "strict", key: nil, value: "first"))
            try await producer.send(
                ProducerRecord(topic: "strict", value: ByteBuffer(repeating: UInt8(ascii: "x"), count: 3000)))
            try await producer.send((0..<5).map { ProducerRecord(topic: "strict", key: nil, value: "after\($0)") })
            let report = await producer.close()
            #expect(report.recordsFailed == 1)
            #expect(report.recordsAcknowledged == 6)
            let failure = try #require(report.failures.first)
            #expect(failure.attempts == 1)
            #expect(failure.recordIndices.contains(1))
            #expect(failure.description.contains("MESSAGE_TOO_LARGE"))
            // (Batches sent behind it may be resent once under a new producer id: the broker saw a sequence gap.)
            let values = try await Self.readAll(connection, topic: "strict", partitions: 1, expected: 6)
            #expect(values == ["first"] + (0..<5).map { "after\($0)" })
            await connection.close()
        }
    }

    @Test func blocksOfByteRangesProduceKeysValuesAndReportBadSpans() async throws {
        try await TestBroker.with { broker in
            let connection = try await KafkaConnection.connect(to: broker.address)
            try await KafkaAdmin(connection: connection).createTopic("blocks", partitions: 3)
            let producer = try await KafkaProducer.make(connection: connection)
            let text = ByteBuffer(string: "k1=v1|k2=v2|v3")
            let block = ProducerRecordBlock(
                topic: "blocks", buffer: text,
                spans: [
                    .init(keyOffset: 0, keyLength: 2, valueOffset: 3, valueLength: 2),
                    .init(keyOffset: 6, keyLength: 2, valueOffset: 9, valueLength: 2),
                    .init(valueOffset: 12, valueLength: 2),
                    .init(valueOffset: 12, valueLength: 50),  // outside the buffer
                ])
            try await producer.send(block)
            let report = await producer.close()
            #expect(report.recordsAccepted == 4)
            #expect(report.recordsAcknowledged == 3)
            #expect(report.recordsFailed == 1)
            #expect(report.failures.first?.recordIndices.contains(3) == true)

            let consumer = KafkaConsumer(connection: connection)
            var positions: [TopicPartition: StartOffset] = [:]
            for partition in Int32(0)..<3 {
                positions[TopicPartition(topic: "blocks", partition: partition)] = .earliest
            }
            try await consumer.assign(positions)
            var records: [ConsumerRecord] = []
            var polls = 0
            while records.count < 3, polls < 100 {
                records += try await consumer.poll(maxWaitMs: 100)
                polls += 1
            }
            let pairs = Set(records.map { "\($0.keyString ?? "-")=\($0.valueString ?? "-")@\($0.partition)" })
            let expectedPartition = { (key: String) in
                Partitioner.keyedPartition(key: ByteBuffer(string: key), partitionCount: 3)
            }
            #expect(pairs.contains("k1=v1@\(expectedPartition("k1"))"))
            #expect(pairs.contains("k2=v2@\(expectedPartition("k2"))"))
            #expect(records.contains { $0.keyString == nil && $0.valueString == "v3" })
            await connection.close()
        }
    }
}
