import NIOCore
import RunnelProtocol
import RunnelRecords
import Testing

@testable import RunnelBroker

/// The broker on 127.0.0.1:0 with a temporary data directory, driven over TCP with the generated protocol types.
@Suite struct BrokerIntegrationTests {
    static let timestamp: Int64 = 1_700_000_000_000

    static func batch(_ values: [String], producerId: Int64 = -1, epoch: Int16 = -1, sequence: Int32 = -1) throws
        -> ByteBuffer
    {
        var builder = RecordBatchBuilder(producerId: producerId, producerEpoch: epoch, baseSequence: sequence)
        for value in values { builder.append(timestamp: timestamp, key: Array("key".utf8), value: Array(value.utf8)) }
        return try builder.build()
    }

    static func produce(_ topic: String, _ records: ByteBuffer, partition: Int32 = 0, acks: Int16 = -1) -> ProduceRequest {
        ProduceRequest(
            acks: acks, timeoutMs: 5000,
            topicData: [.init(name: topic, partitionData: [.init(index: partition, records: records)])])
    }

    static func fetch(_ topic: String, offset: Int64, maxWaitMs: Int32 = 0, minBytes: Int32 = 0) -> FetchRequest {
        FetchRequest(
            maxWaitMs: maxWaitMs, minBytes: minBytes, maxBytes: 1 << 20,
            topics: [
                .init(topic: topic, partitions: [.init(partition: 0, fetchOffset: offset, partitionMaxBytes: 1 << 20)])
            ])
    }

    static func values(in records: ByteBuffer?) throws -> [String] {
        guard var buffer = records else { return [] }
        var result: [String] = []
        while buffer.readableBytes >= RecordBatchHeader.size {
            let header = try RecordBatchHeader(parsing: buffer, at: buffer.readerIndex)
            guard header.sizeInBytes <= buffer.readableBytes, let slice = buffer.readSlice(length: header.sizeInBytes)
            else { break }
            let batch = try RecordBatch(validating: slice)
            result += try batch.records().map { record in record.value.map { String(buffer: $0) } ?? "<null>" }
        }
        return result
    }

    static func metadata(_ names: [String], autoCreate: Bool = true) -> MetadataRequest {
        MetadataRequest(topics: names.map { .init(name: $0) }, allowAutoTopicCreation: autoCreate)
    }

    @Test func apiVersionsAdvertisesTheServedRanges() async throws {
        let directory = try TemporaryDirectory()
        let broker = try await TestBroker.start(directory: directory.path)
        let client = try TestKafkaClient(port: broker.port)
        let response = try client.request(ApiVersionsRequest(clientSoftwareName: "t", clientSoftwareVersion: "1"), version: 3)
        #expect(response.errorCode == 0)
        let ranges = Dictionary(uniqueKeysWithValues: response.apiKeys.map { ($0.apiKey, $0.minVersion...$0.maxVersion) })
        #expect(ranges[ApiKey.produce.rawValue] == 0...11)
        #expect(ranges[ApiKey.fetch.rawValue] == 4...12)
        #expect(ranges[ApiKey.listOffsets.rawValue] == 1...7)
        #expect(ranges[ApiKey.metadata.rawValue] == 0...12)
        #expect(ranges[ApiKey.apiVersions.rawValue] == 0...4)
        #expect(ranges[ApiKey.initProducerId.rawValue] == 0...5)
        #expect(ranges[ApiKey.getTelemetrySubscriptions.rawValue] == nil, "unimplemented APIs are not advertised")
        await broker.stop()
    }

    @Test func tooHighApiVersionsGetsAV0ErrorListingItsRange() async throws {
        let directory = try TemporaryDirectory()
        let broker = try await TestBroker.start(directory: directory.path)
        let client = try TestKafkaClient(port: broker.port)
        let id = try client.send(ApiVersionsRequest(), version: 4, apiKeyOverride: nil)
        _ = try client.receive(ApiVersionsRequest.self, version: 4, correlationId: id)
        // Version 9 does not exist: the body is not parsed and the answer uses the v0 schema.
        var writer = MessageWriter()
        writer.writeInt16(ApiKey.apiVersions.rawValue)
        writer.writeInt16(9)
        writer.writeInt32(77)
        writer.writeNullableString("c", compact: false)
        writer.writeTaggedFields([])
        writer.writeInt8(42)  // an unparseable future body
        let body = writer.finish().reduce(into: [UInt8]()) { $0 += Array($1.readableBytesView) }
        var frame = ByteBuffer()
        frame.writeInteger(Int32(body.count))
        frame.writeBytes(body)
        try client.sendRaw(Array(frame.readableBytesView))
        var reply = try #require(try client.receiveFrame())
        #expect(reply.readInteger(as: Int32.self) == 77)
        var reader = MessageReader(reply)
        let response = try ApiVersionsResponse(from: &reader, version: 0)
        #expect(response.errorCode == 35)
        #expect(response.apiKeys.contains { $0.apiKey == 18 && $0.minVersion == 0 && $0.maxVersion == 4 })
        await broker.stop()
    }

    @Test func metadataAutoCreatesTopicsUnlessTheClientOptsOut() async throws {
        let directory = try TemporaryDirectory()
        let broker = try await TestBroker.start(directory: directory.path, overrides: [("num.partitions", "3")])
        let client = try TestKafkaClient(port: broker.port)
        let created = try client.request(Self.metadata(["auto-one"]), version: 12)
        #expect(created.topics.first?.errorCode == 0)
        #expect(created.topics.first?.partitions.count == 3)
        #expect(created.topics.first?.topicId != .zero)
        #expect(created.brokers.first?.port == Int32(broker.port))
        #expect(created.controllerId == 1)
        let optedOut = try client.request(Self.metadata(["auto-two"], autoCreate: false), version: 12)
        #expect(optedOut.topics.first?.errorCode == ErrorCode.unknownTopicOrPartition.rawValue)
        let invalid = try client.request(Self.metadata(["bad name"]), version: 12)
        #expect(invalid.topics.first?.errorCode == ErrorCode.invalidTopicException.rawValue)
        let all = try client.request(MetadataRequest(topics: nil), version: 1)
        #expect(all.topics.compactMap(\.name) == ["auto-one"])
        await broker.stop()
    }

    @Test func producedRecordsComeBackFromFetchAtOldAndNewVersions() async throws {
        let directory = try TemporaryDirectory()
        let broker = try await TestBroker.start(directory: directory.path)
        let client = try TestKafkaClient(port: broker.port)
        _ = try client.request(Self.metadata(["rt"]), version: 12)
        let first = try client.request(Self.produce("rt", try Self.batch(["a", "b"])), version: 9)
        #expect(first.responses.first?.partitionResponses.first?.errorCode == 0)
        #expect(first.responses.first?.partitionResponses.first?.baseOffset == 0)
        let second = try client.request(Self.produce("rt", try Self.batch(["c"])), version: 3)
        #expect(second.responses.first?.partitionResponses.first?.baseOffset == 2)
        for version: Int16 in [4, 11, 12] {
            let fetched = try client.request(Self.fetch("rt", offset: 0), version: version)
            let partition = try #require(fetched.responses.first?.partitions.first)
            #expect(partition.errorCode == 0)
            #expect(partition.highWatermark == 3)
            #expect(try Self.values(in: partition.records) == ["a", "b", "c"])
        }
        let outOfRange = try client.request(Self.fetch("rt", offset: 99), version: 12)
        #expect(outOfRange.responses.first?.partitions.first?.errorCode == ErrorCode.offsetOutOfRange.rawValue)
        let epochs = try client.request(
            OffsetForLeaderEpochRequest(
                replicaId: -1,
                topics: [
                    .init(topic: "rt", partitions: [
                        .init(partition: 0, currentLeaderEpoch: 0, leaderEpoch: 0),
                        .init(partition: 0, currentLeaderEpoch: -1, leaderEpoch: 3),
                        .init(partition: 0, currentLeaderEpoch: 2, leaderEpoch: 0),
                    ])
                ]), version: 4)
        let answers = epochs.topics.first?.partitions ?? []
        #expect(answers.map(\.errorCode) == [0, 0, 75])
        #expect(answers.first?.endOffset == 3)
        #expect(answers.dropFirst().first?.endOffset == -1)
        let latest = try client.request(
            ListOffsetsRequest(replicaId: -1, topics: [.init(name: "rt", partitions: [.init(partitionIndex: 0, timestamp: -1)])]),
            version: 7)
        #expect(latest.topics.first?.partitions.first?.offset == 3)
        await broker.stop()
    }

    @Test func aWaitingFetchIsWokenByAnAppend() async throws {
        let directory = try TemporaryDirectory()
        let broker = try await TestBroker.start(directory: directory.path)
        let consumer = try TestKafkaClient(port: broker.port, receiveTimeoutSeconds: 30)
        let producer = try TestKafkaClient(port: broker.port)
        _ = try producer.request(Self.metadata(["lp"]), version: 12)
        // max_wait is far beyond the socket timeout: only an append can complete this fetch in time.
        let id = try consumer.send(Self.fetch("lp", offset: 0, maxWaitMs: 600_000, minBytes: 1), version: 12)
        // Other connections are not blocked by the waiting fetch.
        let produced = try producer.request(Self.produce("lp", try Self.batch(["wake"])), version: 9)
        #expect(produced.responses.first?.partitionResponses.first?.errorCode == 0)
        let fetched = try consumer.receive(FetchRequest.self, version: 12, correlationId: id)
        #expect(try Self.values(in: fetched.responses.first?.partitions.first?.records) == ["wake"])
        await broker.stop()
    }

    @Test func anOversizedFrameClosesOnlyThatConnection() async throws {
        let directory = try TemporaryDirectory()
        let broker = try await TestBroker.start(directory: directory.path, overrides: [("socket.request.max.bytes", "1024")])
        let healthy = try TestKafkaClient(port: broker.port)
        let hostile = try TestKafkaClient(port: broker.port)
        try hostile.sendRaw([0x00, 0x10, 0x00, 0x00] + [UInt8](repeating: 0, count: 16))
        #expect(try hostile.isClosedByPeer())
        let response = try healthy.request(ApiVersionsRequest(), version: 0)
        #expect(response.errorCode == 0)
        await broker.stop()
    }

    @Test func unknownApiKeysAndUnservedVersionsCloseTheConnection() async throws {
        let directory = try TemporaryDirectory()
        let broker = try await TestBroker.start(directory: directory.path)
        let unknownKey = try TestKafkaClient(port: broker.port)
        try unknownKey.send(ApiVersionsRequest(), version: 0, apiKeyOverride: 999)
        #expect(try unknownKey.isClosedByPeer())
        let produceV2 = try TestKafkaClient(port: broker.port)
        try produceV2.send(ProduceRequest(acks: 1, timeoutMs: 1000), version: 2)
        #expect(try produceV2.isClosedByPeer())
        let malformed = try TestKafkaClient(port: broker.port)
        try malformed.sendRaw([0, 0, 0, 10, 0, 3, 0, 12, 0, 0, 0, 1, 0xFF, 0x7F])  // Metadata v12, truncated header
        #expect(try malformed.isClosedByPeer())
        let still = try TestKafkaClient(port: broker.port)
        #expect(try still.request(ApiVersionsRequest(), version: 0).errorCode == 0)
        await broker.stop()
    }

    @Test func aRetriedIdempotentBatchIsNotAppendedTwice() async throws {
        let directory = try TemporaryDirectory()
        let broker = try await TestBroker.start(directory: directory.path)
        let client = try TestKafkaClient(port: broker.port)
        _ = try client.request(Self.metadata(["idem"]), version: 12)
        let pid = try client.request(InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: -1), version: 4)
        #expect(pid.errorCode == 0)
        #expect(pid.producerEpoch == 0)
        let batch = try Self.batch(["x", "y"], producerId: pid.producerId, epoch: 0, sequence: 0)
        let first = try client.request(Self.produce("idem", batch), version: 9)
        let retry = try client.request(Self.produce("idem", batch), version: 9)
        #expect(first.responses.first?.partitionResponses.first?.baseOffset == 0)
        #expect(retry.responses.first?.partitionResponses.first?.errorCode == 0)
        #expect(retry.responses.first?.partitionResponses.first?.baseOffset == 0)
        let gap = try Self.batch(["z"], producerId: pid.producerId, epoch: 0, sequence: 5)
        let outOfOrder = try client.request(Self.produce("idem", gap), version: 9)
        #expect(outOfOrder.responses.first?.partitionResponses.first?.errorCode == ErrorCode.outOfOrderSequenceNumber.rawValue)
        let fetched = try client.request(Self.fetch("idem", offset: 0), version: 12)
        #expect(try Self.values(in: fetched.responses.first?.partitions.first?.records) == ["x", "y"])
        let second = try client.request(InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: -1), version: 4)
        #expect(second.producerId != pid.producerId)
        await broker.stop()
    }

    @Test func acksZeroProduceGetsNoResponse() async throws {
        let directory = try TemporaryDirectory()
        let broker = try await TestBroker.start(directory: directory.path)
        let client = try TestKafkaClient(port: broker.port)
        _ = try client.request(Self.metadata(["quiet"]), version: 12)
        try client.send(Self.produce("quiet", try Self.batch(["fire", "forget"]), acks: 0), version: 9)
        let id = try client.send(ApiVersionsRequest(), version: 0)
        // The next frame answers the ApiVersions request: the acks=0 produce had no response.
        #expect(try client.receive(ApiVersionsRequest.self, version: 0, correlationId: id).errorCode == 0)
        let fetched = try client.request(Self.fetch("quiet", offset: 0), version: 12)
        #expect(try Self.values(in: fetched.responses.first?.partitions.first?.records) == ["fire", "forget"])
        await broker.stop()
    }

    @Test func produceValidationFollowsKafkasErrorCodes() async throws {
        let directory = try TemporaryDirectory()
        let broker = try await TestBroker.start(directory: directory.path)
        let client = try TestKafkaClient(port: broker.port)
        let created = try client.request(
            CreateTopicsRequest(
                topics: [
                    .init(name: "compacted", numPartitions: 1, replicationFactor: 1, configs: [.init(name: "cleanup.policy", value: "compact")]),
                    .init(name: "small", numPartitions: 1, replicationFactor: 1, configs: [.init(name: "max.message.bytes", value: "100")]),
                ], timeoutMs: 5000), version: 7)
        #expect(created.topics.map(\.errorCode) == [0, 0])
        func code(_ topic: String, _ records: ByteBuffer) throws -> Int16? {
            try client.request(Self.produce(topic, records), version: 9).responses.first?.partitionResponses.first?.errorCode
        }
        var nullKey = RecordBatchBuilder()
        nullKey.append(timestamp: Self.timestamp, key: nil as [UInt8]?, value: Array("v".utf8))
        #expect(try code("compacted", try nullKey.build()) == ErrorCode.invalidRecord.rawValue)
        #expect(try code("compacted", try Self.batch(["keyed"])) == 0)
        #expect(try code("small", try Self.batch([String(repeating: "x", count: 200)])) == ErrorCode.messageTooLarge.rawValue)
        var corrupt = try Self.batch(["c"])
        corrupt.setInteger(UInt8(0xAB), at: corrupt.writerIndex - 1)
        #expect(try code("compacted", corrupt) == ErrorCode.corruptMessage.rawValue)
        var nonZeroBase = try Self.batch(["c"])
        nonZeroBase.setInteger(Int64(5), at: 0)
        #expect(try code("compacted", nonZeroBase) == ErrorCode.invalidRecord.rawValue)
        var two = try Self.batch(["1"])
        var other = try Self.batch(["2"])
        two.writeBuffer(&other)
        #expect(try code("compacted", two) == ErrorCode.invalidRecord.rawValue)
        #expect(try code("missing", try Self.batch(["m"])) == ErrorCode.unknownTopicOrPartition.rawValue)
        await broker.stop()
    }

    @Test func adminApisReportKafkaErrors() async throws {
        let directory = try TemporaryDirectory()
        let broker = try await TestBroker.start(directory: directory.path)
        let client = try TestKafkaClient(port: broker.port)
        let response = try client.request(
            CreateTopicsRequest(
                topics: [
                    .init(name: "ok", numPartitions: 2, replicationFactor: 1),
                    .init(name: "bad/name", numPartitions: 1, replicationFactor: 1),
                    .init(name: "zero", numPartitions: 0, replicationFactor: 1),
                    .init(name: "rf", numPartitions: 1, replicationFactor: 3),
                    .init(name: "cfg", numPartitions: 1, replicationFactor: 1, configs: [.init(name: "retention.ms", value: "soon")]),
                    .init(name: "cfg2", numPartitions: 1, replicationFactor: 1, configs: [.init(name: "no.such.key", value: "1")]),
                ], timeoutMs: 5000), version: 7)
        #expect(response.topics.map(\.errorCode) == [0, 17, 37, 38, 40, 40])
        let again = try client.request(CreateTopicsRequest(topics: [.init(name: "ok", numPartitions: 1, replicationFactor: 1)]), version: 7)
        #expect(again.topics.first?.errorCode == 36)
        let validateOnly = try client.request(
            CreateTopicsRequest(topics: [.init(name: "dry", numPartitions: 1, replicationFactor: 1)], validateOnly: true), version: 7)
        #expect(validateOnly.topics.first?.errorCode == 0)
        let grown = try client.request(CreatePartitionsRequest(topics: [.init(name: "ok", count: 4)]), version: 3)
        #expect(grown.results.first?.errorCode == 0)
        let shrink = try client.request(CreatePartitionsRequest(topics: [.init(name: "ok", count: 1)]), version: 3)
        #expect(shrink.results.first?.errorCode == 37)
        let altered = try client.request(
            IncrementalAlterConfigsRequest(resources: [.init(resourceType: 2, resourceName: "ok", configs: [.init(name: "retention.ms", configOperation: 0, value: "1234")])]),
            version: 1)
        #expect(altered.responses.first?.errorCode == 0)
        let described = try client.request(
            DescribeConfigsRequest(resources: [.init(resourceType: 2, resourceName: "ok", configurationKeys: ["retention.ms", "segment.bytes"])], includeSynonyms: true),
            version: 4)
        let entries = Dictionary(uniqueKeysWithValues: (described.results.first?.configs ?? []).map { ($0.name, $0) })
        #expect(entries["retention.ms"]?.value == "1234")
        #expect(entries["retention.ms"]?.configSource == ConfigSource.topicConfig.rawValue)
        #expect(entries["segment.bytes"]?.configSource == ConfigSource.defaultConfig.rawValue)
        let brokerConfigs = try client.request(
            DescribeConfigsRequest(resources: [.init(resourceType: 4, resourceName: "1", configurationKeys: ["log.dirs", "num.partitions"])]),
            version: 4)
        #expect(brokerConfigs.results.first?.configs.first { $0.name == "log.dirs" }?.value == directory.path)
        let deleted = try client.request(DeleteTopicsRequest(topicNames: ["ok", "nope"], timeoutMs: 5000), version: 5)
        #expect(deleted.responses.map(\.errorCode) == [0, 3])
        let metadata = try client.request(MetadataRequest(topics: nil), version: 12)
        #expect(metadata.topics.isEmpty)
        // Error messages quoting client input stay within a wire string's limit.
        let huge = String(repeating: "h", count: 32_000)
        let hugeName = try client.request(
            CreateTopicsRequest(topics: [.init(name: huge + "!", numPartitions: 1, replicationFactor: 1)]), version: 7)
        #expect(hugeName.topics.first?.errorCode == ErrorCode.invalidTopicException.rawValue)
        #expect((hugeName.topics.first?.errorMessage?.utf8.count ?? 0) <= 1024)
        await broker.stop()
    }

    @Test func dataAndTopicIdsSurviveARestart() async throws {
        let directory = try TemporaryDirectory()
        let topicId: KafkaUUID
        do {
            let broker = try await TestBroker.start(directory: directory.path)
            let client = try TestKafkaClient(port: broker.port)
            topicId = try #require(try client.request(Self.metadata(["durable"]), version: 12).topics.first?.topicId)
            _ = try client.request(Self.produce("durable", try Self.batch(["one", "two"])), version: 9)
            await broker.stop()
        }
        let broker = try await TestBroker.start(directory: directory.path)
        let client = try TestKafkaClient(port: broker.port)
        let metadata = try client.request(Self.metadata(["durable"], autoCreate: false), version: 12)
        #expect(metadata.topics.first?.topicId == topicId)
        let fetched = try client.request(Self.fetch("durable", offset: 0), version: 12)
        #expect(try Self.values(in: fetched.responses.first?.partitions.first?.records) == ["one", "two"])
        let next = try client.request(Self.produce("durable", try Self.batch(["three"])), version: 9)
        #expect(next.responses.first?.partitionResponses.first?.baseOffset == 2)
        await broker.stop()
    }

    @Test func gracefulShutdownAnswersWaitingFetchesAndMarksACleanStop() async throws {
        let directory = try TemporaryDirectory()
        let broker = try await TestBroker.start(directory: directory.path)
        let waiting = try TestKafkaClient(port: broker.port, receiveTimeoutSeconds: 30)
        let idle = try TestKafkaClient(port: broker.port)
        _ = try idle.request(Self.metadata(["bye"]), version: 12)
        _ = try idle.request(Self.produce("bye", try Self.batch(["kept"])), version: 9)
        let id = try waiting.send(Self.fetch("bye", offset: 1, maxWaitMs: 600_000, minBytes: 1), version: 12)
        // Shut down only once the fetch is parked (a condition wait, not a timing assertion).
        for _ in 0..<2000 where await broker.broker.waitingFetchCount == 0 {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(await broker.broker.waitingFetchCount == 1)
        await broker.stop()
        let answered = try waiting.receive(FetchRequest.self, version: 12, correlationId: id)
        #expect(answered.responses.first?.partitions.first?.errorCode == 0)
        #expect(try waiting.isClosedByPeer())
        #expect(try idle.isClosedByPeer())
        #expect(FileIO.fileExists(directory.path + "/.kafka_cleanshutdown"))
    }

    @Test func idempotentStateSurvivesRestartsWithAndWithoutSnapshots() async throws {
        let directory = try TemporaryDirectory()
        let batch: ByteBuffer
        do {
            let broker = try await TestBroker.start(
                directory: directory.path, overrides: [("log.flush.interval.messages", "1")])
            let client = try TestKafkaClient(port: broker.port)
            _ = try client.request(Self.metadata(["idem-restart"]), version: 12)
            let pid = try client.request(InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: -1), version: 4)
            _ = try client.request(Self.produce("idem-restart", try Self.batch(["p"])), version: 9)
            batch = try Self.batch(["q", "r"], producerId: pid.producerId, epoch: 0, sequence: 0)
            let first = try client.request(Self.produce("idem-restart", batch), version: 9)
            #expect(first.responses.first?.partitionResponses.first?.baseOffset == 1)
            await broker.stop()
        }
        let partitionDirectory = directory.path + "/idem-restart-0"
        #expect(try FileIO.listDirectory(partitionDirectory).contains(ProducerSnapshot.fileName(offset: 3)))
        for round in 0..<2 {
            if round == 1 {
                // Without snapshots the state is rebuilt from the batch headers in the log.
                for name in try FileIO.listDirectory(partitionDirectory) where name.hasSuffix(".snapshot") {
                    try FileIO.removeFile(partitionDirectory + "/" + name)
                }
            }
            let broker = try await TestBroker.start(directory: directory.path)
            let client = try TestKafkaClient(port: broker.port)
            let retry = try client.request(Self.produce("idem-restart", batch), version: 9)
            #expect(retry.responses.first?.partitionResponses.first?.errorCode == 0, "round \(round)")
            #expect(retry.responses.first?.partitionResponses.first?.baseOffset == 1, "round \(round)")
            let fetched = try client.request(Self.fetch("idem-restart", offset: 0), version: 12)
            #expect(try Self.values(in: fetched.responses.first?.partitions.first?.records) == ["p", "q", "r"])
            await broker.stop()
        }
    }

    @Test func aClientThatHangsUpStopsItsWaitingFetch() async throws {
        let directory = try TemporaryDirectory()
        let broker = try await TestBroker.start(directory: directory.path)
        do {
            let client = try TestKafkaClient(port: broker.port)
            _ = try client.request(Self.metadata(["hangup"]), version: 12)
            try client.send(Self.fetch("hangup", offset: 0, maxWaitMs: 600_000, minBytes: 1), version: 12)
            for _ in 0..<2000 where await broker.broker.waitingFetchCount == 0 {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(await broker.broker.waitingFetchCount == 1)
        }  // the client closes its socket here
        for _ in 0..<2000 where await broker.broker.waitingFetchCount > 0 {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(await broker.broker.waitingFetchCount == 0)
        await broker.stop()
    }
}
