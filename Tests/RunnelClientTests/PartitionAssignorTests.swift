import RunnelClient
import Testing

@Suite struct PartitionAssignorTests {
    private func tp(_ topic: String, _ partition: Int32) -> TopicPartition {
        TopicPartition(topic: topic, partition: partition)
    }

    /// The RangeAssignor javadoc example: C0, C1; t0 and t1 with 3 partitions each.
    @Test func rangeGivesTheFirstMembersTheExtraPartitions() {
        let plan = PartitionAssignor.range.assign(
            members: ["C0": ["t0", "t1"], "C1": ["t0", "t1"]], partitionCounts: ["t0": 3, "t1": 3])
        #expect(plan["C0"] == [tp("t0", 0), tp("t0", 1), tp("t1", 0), tp("t1", 1)])
        #expect(plan["C1"] == [tp("t0", 2), tp("t1", 2)])
    }

    /// The RoundRobinAssignor javadoc example.
    @Test func roundRobinDealsPartitionsInTurn() {
        let plan = PartitionAssignor.roundrobin.assign(
            members: ["C0": ["t0", "t1"], "C1": ["t0", "t1"]], partitionCounts: ["t0": 3, "t1": 3])
        #expect(plan["C0"] == [tp("t0", 0), tp("t0", 2), tp("t1", 1)])
        #expect(plan["C1"] == [tp("t0", 1), tp("t1", 0), tp("t1", 2)])
    }

    @Test func membersOnlyGetTopicsTheySubscribeTo() {
        for assignor in PartitionAssignor.allCases {
            let plan = assignor.assign(
                members: ["a": ["t0"], "b": ["t0", "t1"], "c": ["t1"]], partitionCounts: ["t0": 4, "t1": 2])
            #expect(plan["a"]?.allSatisfy { $0.topic == "t0" } == true)
            #expect(plan["c"]?.allSatisfy { $0.topic == "t1" } == true)
            let all = plan.values.flatMap { $0 }
            #expect(all.count == 6, "\(assignor): every partition once")
            #expect(Set(all).count == 6)
        }
    }

    @Test func moreMembersThanPartitionsLeavesSomeIdle() {
        let plan = PartitionAssignor.range.assign(
            members: ["m1": ["t"], "m2": ["t"], "m3": ["t"]], partitionCounts: ["t": 2])
        #expect(plan["m1"] == [tp("t", 0)])
        #expect(plan["m2"] == [tp("t", 1)])
        #expect(plan["m3"] == [])
    }
}
