import NIOCore
import RunnelClient
import RunnelRecords
import Testing

/// Producer, consumer and admin against the real broker, in process.
@Suite(.serialized) struct ClientIntegrationTests {
    private func consumeAll(_ consumer: KafkaConsumer, expected: Int, maxPolls: Int = 200) async throws
        -> [ConsumerRecord]
    {
        var records: [ConsumerRecord] = []
        var polls = 0
        while records.count < expected, polls < maxPolls {
            records += try await consumer.poll(maxWaitMs: 100)
            polls += 1
        }
        return records
    }

    @Test func producedRecordsAreConsumedBackInOrder() async throws {
        try await TestBroker.with { broker in
            let connection = try await KafkaConnection.connect(to: broker.address)
            let admin = KafkaAdmin(connection: connection)
            try await admin.createTopic("orders", partitions: 1)

            var configuration = ProducerConfiguration()
            configuration.batchSizeBytes = 4096  // several batches and requests
            let producer = try await KafkaProducer.make(connection: connection, configuration: configuration)
            #expect(await producer.producerIdentity.id >= 0)  // idempotent by default
            let records = (0..<1000).map {
                ProducerRecord(topic: "orders", key: nil, value: "record-\($0)", headers: [])
            }
            try await producer.send(records)
            let report = await producer.close()
            #expect(report.recordsAcknowledged == 1000)
            #expect(report.failures.isEmpty)
            #expect(report.acknowledgements.count > 1)

            let consumer = KafkaConsumer(connection: connection)
            try await consumer.assign([TopicPartition(topic: "orders", partition: 0): .earliest])
            let consumed = try await consumeAll(consumer, expected: 1000)
            #expect(consumed.map(\.valueString) == (0..<1000).map { "record-\($0)" })
            #expect(consumed.map(\.offset) == Array(0..<1000))
            #expect(await consumer.isAtEnd)
            await connection.close()
        }
    }

    @Test func keysHeadersAndTimestampsRoundTripAndKeysPickMurmur2Partitions() async throws {
        try await TestBroker.with { broker in
            let connection = try await KafkaConnection.connect(to: broker.address)
            try await KafkaAdmin(connection: connection).createTopic("keyed", partitions: 4)
            var configuration = ProducerConfiguration()
            configuration.compression = .lz4
            let producer = try await KafkaProducer.make(connection: connection, configuration: configuration)
            let keys = (0..<40).map { "key-\($0)" }
            try await producer.send(
                keys.map {
                    ProducerRecord(
                        topic: "keyed", key: ByteBuffer(string: $0), value: ByteBuffer(string: "value-of-\($0)"),
                        headers: [RecordHeader(key: "source", utf8Value: "test"), RecordHeader(key: "empty", value: nil)],
                        timestamp: 1_700_000_000_000)
                })
            let report = await producer.close()
            #expect(report.recordsAcknowledged == 40)

            let consumer = KafkaConsumer(connection: connection)
            try await consumer.assign(
                Dictionary(uniqueKeysWithValues: (0..<4).map { (TopicPartition(topic: "keyed", partition: $0), StartOffset.earliest) }))
            let consumed = try await consumeAll(consumer, expected: 40)
            #expect(consumed.count == 40)
            for record in consumed {
                let key = try #require(record.keyString)
                #expect(record.valueString == "value-of-\(key)")
                #expect(record.partition == Partitioner.keyedPartition(key: ByteBuffer(string: key), partitionCount: 4))
                #expect(record.headers == [RecordHeader(key: "source", utf8Value: "test"), RecordHeader(key: "empty", value: nil)])
                #expect(record.timestamp == 1_700_000_000_000)
            }
            #expect(Set(consumed.compactMap(\.keyString)) == Set(keys))
            await connection.close()
        }
    }

    @Test func consumerSeeksByOffsetFromEndAndTimestamp() async throws {
        try await TestBroker.with { broker in
            let connection = try await KafkaConnection.connect(to: broker.address)
            try await KafkaAdmin(connection: connection).createTopic("seek", partitions: 1)
            var configuration = ProducerConfiguration()
            configuration.lingerMs = 0
            let producer = try await KafkaProducer.make(connection: connection, configuration: configuration)
            try await producer.send(
                (0..<10).map {
                    ProducerRecord(topic: "seek", value: ByteBuffer(string: "\($0)"), timestamp: 1_000 * Int64($0 + 1))
                })
            _ = await producer.close()
            let tp = TopicPartition(topic: "seek", partition: 0)
            let consumer = KafkaConsumer(connection: connection)

            try await consumer.assign([tp: .offset(7)])
            #expect(try await consumeAll(consumer, expected: 3).map(\.offset) == [7, 8, 9])
            try await consumer.seek(tp, to: .fromEnd(2))
            #expect(try await consumeAll(consumer, expected: 2).map(\.offset) == [8, 9])
            try await consumer.seek(tp, to: .timestamp(4_500))  // first record at or after: offset 4 (ts 5000)
            #expect(await consumer.position(tp) == 4)
            try await consumer.seek(tp, to: .latest)
            #expect(await consumer.position(tp) == 10)
            #expect(try await consumer.poll(maxWaitMs: 10).isEmpty)
            await connection.close()
        }
    }

    @Test func adminCreatesDescribesAltersAndDeletesTopics() async throws {
        try await TestBroker.with { broker in
            let admin = try await KafkaAdmin.connect(to: broker.address)
            try await admin.createTopic("admin-topic", partitions: 2, configs: ["retention.ms": "3600000"])
            await #expect(throws: ClientError.self) { try await admin.createTopic("admin-topic", partitions: 2) }
            #expect(try await admin.listTopics().map(\.name).contains("admin-topic"))

            var description = try await admin.describeTopic("admin-topic")
            #expect(description.metadata.partitionCount == 2)
            #expect(description.offsets.map(\.latest) == [0, 0])
            #expect(description.configs.first { $0.name == "retention.ms" }?.value == "3600000")

            try await admin.alterConfigs(topic: "admin-topic", set: ["retention.ms": "7200000"])
            try await admin.createPartitions(topic: "admin-topic", totalCount: 3)
            description = try await admin.describeTopic("admin-topic")
            #expect(description.metadata.partitionCount == 3)
            #expect(description.configs.first { $0.name == "retention.ms" }?.value == "7200000")

            try await admin.deleteTopics(["admin-topic"])
            #expect(try await !admin.listTopics().map(\.name).contains("admin-topic"))
            do {
                try await admin.deleteTopics(["admin-topic"])
                Issue.record("deleting a missing topic succeeded")
            } catch let error as ClientError {
                #expect(error.description.contains("topic admin-topic does not exist"))
            }
            await admin.close()
        }
    }

    @Test func unknownTopicAndUnreachableBrokerGiveClearErrors() async throws {
        try await TestBroker.with { broker in
            let producer = try await KafkaProducer.connect(to: broker.address)
            do {
                try await producer.send(ProducerRecord(topic: "missing", key: nil, value: "x"))
                Issue.record("sending to a missing topic succeeded")
            } catch let error as ClientError {
                #expect(error.description == "topic missing does not exist: create it with `runnel topics create missing`")
            }
            await producer.close()
        }
        // A port nothing listens on: the broker above is stopped, so its port is free again.
        do {
            _ = try await KafkaConnection.connect(to: BrokerAddress(host: "127.0.0.1", port: 1))
            Issue.record("connecting to port 1 succeeded")
        } catch {
            #expect(error.description.hasPrefix("broker not reachable at 127.0.0.1:1"))
            #expect(error.description.contains("is `runnel serve` running?"))
        }
    }

    @Test func oversizedRecordIsReportedAsAFailureAndOthersStillLand() async throws {
        try await TestBroker.with { broker in
            let connection = try await KafkaConnection.connect(to: broker.address)
            try await KafkaAdmin(connection: connection).createTopic(
                "small", partitions: 1, configs: ["max.message.bytes": "2000"])
            var configuration = ProducerConfiguration()
            configuration.lingerMs = 0
            let producer = try await KafkaProducer.make(connection: connection, configuration: configuration)
            try await producer.send(ProducerRecord(topic: "small", key: nil, value: "before"))
            _ = await producer.flush()
            try await producer.send(
                ProducerRecord(topic: "small", value: ByteBuffer(repeating: UInt8(ascii: "x"), count: 5000)))
            _ = await producer.flush()
            try await producer.send(ProducerRecord(topic: "small", key: nil, value: "after"))
            let report = await producer.close()
            #expect(report.recordsAcknowledged == 2)
            #expect(report.recordsFailed == 1)
            let failure = try #require(report.failures.first)
            #expect(failure.recordIndices.contains(1))
            #expect(failure.description.contains("MESSAGE_TOO_LARGE"))

            let consumer = KafkaConsumer(connection: connection)
            try await consumer.assign([TopicPartition(topic: "small", partition: 0): .earliest])
            #expect(try await consumeAll(consumer, expected: 2).compactMap(\.valueString) == ["before", "after"])
            await connection.close()
        }
    }

    @Test func acksZeroRecordsAreWrittenWithoutAcknowledgement() async throws {
        try await TestBroker.with { broker in
            let connection = try await KafkaConnection.connect(to: broker.address)
            try await KafkaAdmin(connection: connection).createTopic("fire", partitions: 1)
            var configuration = ProducerConfiguration()
            configuration.acks = .none
            let producer = try await KafkaProducer.make(connection: connection, configuration: configuration)
            #expect(await producer.producerIdentity.id == -1)
            try await producer.send((0..<50).map { ProducerRecord(topic: "fire", key: nil, value: "\($0)") })
            let report = await producer.close()
            #expect(report.recordsWrittenUnacknowledged == 50)
            let consumer = KafkaConsumer(connection: connection)
            try await consumer.assign([TopicPartition(topic: "fire", partition: 0): .earliest])
            #expect(try await consumeAll(consumer, expected: 50).count == 50)
            await connection.close()
        }
    }
}
