import NIOCore
import RunnelProtocol
import RunnelStorage
import Testing

@testable import RunnelBroker

/// `__consumer_offsets` partitioning and record layouts (KAFKA-FORMATS §8.1, §8.9).
@Suite struct OffsetsTopicRecordsTests {
    @Test(arguments: [
        ("my-group", Int32(-1_906_497_762), Int32(12)),
        ("test-group", 627_841_412, 12),
        ("console-consumer-12345", 158_455_506, 6),
        ("", 0, 0),
        ("\u{E9}-grp", 216_623_617, 17),
        ("polygenelubricants", Int32.min, 0),
    ])
    func groupPartitionMatchesKafka(group: String, hash: Int32, partition: Int32) {
        #expect(OffsetsTopicPartitioner.javaStringHashCode(group) == hash)
        #expect(OffsetsTopicPartitioner.partition(for: group, partitionCount: 50) == partition)
    }

    @Test func offsetCommitRecordMatchesTheWorkedExample() {
        let entry = OffsetsTopicRecords.offsetCommit(
            group: "my-group", topicPartition: TopicPartition(topic: "topic", partition: 0),
            offset: CommittedOffset(
                offset: 42, leaderEpoch: -1, metadata: "", commitTimestampMs: 1_700_000_000_000, expireTimestampMs: nil)
        )
        #expect(hex(entry.key) == "0001" + "0008" + "6d792d67726f7570" + "0005" + "746f706963" + "00000000")
        #expect(hex(entry.value) == "0003" + "000000000000002a" + "ffffffff" + "0000" + "0000018bcfe56800")
    }

    @Test func recordsRoundTripThroughABatch() throws {
        let tp = TopicPartition(topic: "t", partition: 3)
        let offset = CommittedOffset(
            offset: 7, leaderEpoch: 2, metadata: "meta", commitTimestampMs: 1000, expireTimestampMs: 5000)
        let metadata = GroupMetadataValue(
            protocolType: "consumer", generation: 4, protocol: "range", leader: "m-1", currentStateTimestamp: 99,
            members: [
                .init(
                    memberId: "m-1", groupInstanceId: "i", clientId: "c", clientHost: "/h", rebalanceTimeout: 300,
                    sessionTimeout: 100, subscription: ByteBuffer(bytes: [1, 2]), assignment: ByteBuffer(bytes: [3]))
            ])
        let batch = try OffsetsTopicRecords.batch(
            [
                OffsetsTopicRecords.offsetCommit(group: "g", topicPartition: tp, offset: offset),
                OffsetsTopicRecords.groupMetadata(group: "g", value: metadata),
                OffsetsTopicRecords.offsetCommit(group: "g", topicPartition: tp, offset: nil),
                OffsetsTopicRecords.groupMetadata(group: "g", value: nil),
            ], timestampMs: 1234)
        var skipped: [String] = []
        let records = try OffsetsTopicRecords.decode(batches: batch) { skipped.append($0) }
        #expect(skipped.isEmpty && records.count == 4)
        guard records.count == 4 else { return }
        if case .offsetCommit(let group, let decodedTp, let decoded) = records[0] {
            // expire_timestamp forces value version 1, which has no leader epoch.
            #expect(group == "g" && decodedTp == tp)
            #expect(decoded?.offset == 7 && decoded?.metadata == "meta" && decoded?.expireTimestampMs == 5000)
            #expect(decoded?.commitTimestampMs == 1000)
        } else {
            Issue.record("record 0 is not an offset commit")
        }
        if case .groupMetadata(let group, let value) = records[1] {
            #expect(group == "g" && value == metadata)
        } else {
            Issue.record("record 1 is not group metadata")
        }
        if case .offsetCommit(_, _, let value) = records[2] { #expect(value == nil) } else { Issue.record("record 2") }
        if case .groupMetadata(_, let value) = records[3] { #expect(value == nil) } else { Issue.record("record 3") }
    }

    @Test func otherRecordTypesAreSkippedOnReplay() throws {
        var key = ByteBuffer()
        key.writeInteger(Int16(3))  // KIP-848 ConsumerGroupMetadataKey
        key.writeInteger(Int16(1))
        key.writeString("g")
        #expect(try OffsetsTopicRecords.decodeRecord(key: key, value: nil) == nil)
    }

    private func hex(_ buffer: ByteBuffer?) -> String {
        guard let buffer else { return "nil" }
        return buffer.readableBytesView.map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
        }.joined()
    }
}
