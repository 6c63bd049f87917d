import NIOCore
import RunnelProtocol
import Testing

@Suite struct VersionedDataTests {
    @Test func consumerProtocolAssignmentRoundTripsWithVersionPrefix() throws {
        let assignment = ConsumerProtocolAssignment(
            assignedPartitions: [.init(topic: "orders", partitions: [0, 2])], userData: nil)
        let bytes = assignment.encodedWithVersionPrefix(version: 1)
        #expect(Hex.string(bytes).hasPrefix("0001" + "00000001" + "00066f7264657273" + "00000002"))
        let decoded = try ConsumerProtocolAssignment.decodeVersionPrefixed(from: bytes)
        #expect(decoded.version == 1)
        #expect(decoded.value == assignment)
    }

    @Test func newerVersionsDecodeAsTheHighestKnownVersion() throws {
        let subscription = ConsumerProtocolSubscription(topics: ["a"], userData: nil)
        var bytes = subscription.encodedWithVersionPrefix(version: 3)
        bytes.setInteger(Int16(9), at: bytes.readerIndex)  // pretend a future client wrote v9
        let decoded = try ConsumerProtocolSubscription.decodeVersionPrefixed(from: bytes)
        #expect(decoded.version == 9)
        #expect(decoded.value.topics == ["a"])
    }

    @Test func offsetCommitRecordsRoundTrip() throws {
        let key = OffsetCommitKey(group: "g", topic: "t", partition: 3)
        let value = OffsetCommitValue(offset: 42, leaderEpoch: 5, metadata: "", commitTimestamp: 1_700_000_000_000)
        let keyBytes = key.encodedWithVersionPrefix(version: 1)
        let valueBytes = value.encodedWithVersionPrefix(version: 3)
        #expect(try OffsetCommitKey.decodeVersionPrefixed(from: keyBytes).value == key)
        #expect(try OffsetCommitValue.decodeVersionPrefixed(from: valueBytes).value == value)
    }
}
