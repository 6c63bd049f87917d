import Foundation
import NIOCore
import RunnelClient
import Testing

/// The consumer-group client against the broker's group coordinator, in process.
@Suite(.serialized) struct GroupConsumerIntegrationTests {
    private func fastGroup(start: StartOffset = .earliest) -> GroupConfiguration {
        var configuration = GroupConfiguration()
        configuration.heartbeatIntervalMs = 100
        configuration.sessionTimeoutMs = 6_000
        configuration.rebalanceTimeoutMs = 6_000
        configuration.startWithoutCommit = start
        configuration.consumer.maxWaitMs = 50
        return configuration
    }

    private func produce(_ count: Int, to topic: String, broker: TestBroker, partitions: Int32) async throws {
        let connection = try await KafkaConnection.connect(to: broker.address)
        try await KafkaAdmin(connection: connection).createTopic(topic, partitions: partitions)
        let producer = try await KafkaProducer.make(connection: connection)
        try await producer.send(
            (0..<count).map { ProducerRecord(topic: topic, key: ByteBuffer(string: "k\($0)"), value: ByteBuffer(string: "v\($0)")) })
        let report = await producer.close()
        #expect(report.recordsAcknowledged == count)
        await connection.close()
    }

    @Test func committedOffsetsAreResumedByTheNextMember() async throws {
        try await TestBroker.with { broker in
            try await produce(60, to: "resume", broker: broker, partitions: 3)
            let first = try await KafkaGroupConsumer.connect(
                to: broker.address, groupId: "g-resume", topics: ["resume"], configuration: fastGroup())
            var seen: [ConsumerRecord] = []
            for _ in 0..<100 where seen.count < 60 {
                let records = try await first.poll()
                for record in records where record.offset < 10 {  // mark only the first 10 of each partition
                    await first.markConsumed(record)
                }
                seen += records
            }
            #expect(seen.count == 60)
            #expect(await first.assignment.count == 3)
            try await first.close()

            let second = try await KafkaGroupConsumer.connect(
                to: broker.address, groupId: "g-resume", topics: ["resume"], configuration: fastGroup())
            var rest: [ConsumerRecord] = []
            for _ in 0..<100 where rest.count < 30 { rest += try await second.poll() }
            // Each partition resumes at offset 10: 60 records minus 3 x 10 committed.
            #expect(rest.count == 30)
            #expect(rest.allSatisfy { $0.offset >= 10 })
            let committed = try await second.fetchCommitted((0..<3).map { TopicPartition(topic: "resume", partition: $0) })
            #expect(committed.values.allSatisfy { $0 == 10 })
            try await second.close()
        }
    }

    @Test func twoMembersSplitThePartitions() async throws {
        try await TestBroker.with { broker in
            try await produce(40, to: "split", broker: broker, partitions: 4)
            let a = try await KafkaGroupConsumer.connect(
                to: broker.address, groupId: "g-split", topics: ["split"], configuration: fastGroup())
            _ = try await a.poll()  // a joins alone and owns every partition
            #expect(await a.assignment.count == 4)
            let b = try await KafkaGroupConsumer.connect(
                to: broker.address, groupId: "g-split", topics: ["split"], configuration: fastGroup())
            // b's JoinGroup waits until a rejoins (a learns of the rebalance from a heartbeat), so each member
            // polls in its own loop until both hold two partitions of the same generation (or 30 s pass).
            @Sendable func settled() async -> Bool {
                let (ownedA, ownedB) = (await a.assignment, await b.assignment)
                let (generationA, generationB) = (await a.generation, await b.generation)
                return ownedA.count == 2 && ownedB.count == 2 && generationA == generationB
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for member in [a, b] {
                    group.addTask {
                        let deadline = ContinuousClock.now + .seconds(30)
                        while ContinuousClock.now < deadline, !(await settled()) { _ = try await member.poll() }
                    }
                }
                try await group.waitForAll()
            }
            let ownedA = await a.assignment
            let ownedB = await b.assignment
            #expect(ownedA.count == 2 && ownedB.count == 2)
            #expect(Set(ownedA).isDisjoint(with: ownedB))
            try await a.close()
            try await b.close()
        }
    }

    @Test func cliGroupConsumerCommitsWhatItPrintedOnInterrupt() async throws {
        try await TestBroker.with { broker in
            try await produce(25, to: "cli-group", broker: broker, partitions: 1)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try CLI.binaryPath())
            process.arguments = [
                "consume", "cli-group", "--group", "g-cli", "--offset", "earliest", "--bootstrap-server", broker.bootstrap,
            ]
            let outputPath = broker.directory.path + "/cli-group.out"
            _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
            let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Follow mode: wait (without blocking a thread) until all 25 lines are printed, then interrupt.
            var text = ""
            let deadline = Date().addingTimeInterval(30)
            while text.split(separator: "\n").count < 25, Date() < deadline, process.isRunning {
                try await Task.sleep(for: .milliseconds(50))
                text = String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: outputPath))) ?? Data(), as: UTF8.self)
            }
            process.interrupt()  // SIGINT, as Ctrl-C
            let exitDeadline = Date().addingTimeInterval(20)
            while process.isRunning, Date() < exitDeadline { try await Task.sleep(for: .milliseconds(20)) }
            if process.isRunning { process.terminate() }
            try output.close()
            #expect(text.split(separator: "\n").map(String.init) == (0..<25).map { "v\($0)" })
            #expect(process.terminationStatus == 0)

            let check = try await KafkaGroupConsumer.connect(
                to: broker.address, groupId: "g-cli", topics: ["cli-group"], configuration: fastGroup())
            #expect(try await check.fetchCommitted([TopicPartition(topic: "cli-group", partition: 0)]).values.first == 25)
            try await check.close()
        }
    }
}
