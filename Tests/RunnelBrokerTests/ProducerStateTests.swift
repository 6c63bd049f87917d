import Testing

@testable import RunnelBroker

@Suite struct ProducerStateTests {
    /// Appends batches of `count` records at increasing offsets, like a log would.
    final class FakeLog {
        var nextOffset: Int64 = 0
        var appends = 0

        func append(count: Int32) -> AppendedBatch {
            let first = nextOffset
            nextOffset += Int64(count)
            appends += 1
            return AppendedBatch(firstOffset: first, lastOffset: nextOffset - 1, timestamp: 1000 + first)
        }
    }

    private func fields(_ pid: Int64 = 7, epoch: Int16 = 0, seq: Int32, count: Int32) -> ProducerBatchFields {
        ProducerBatchFields(producerId: pid, producerEpoch: epoch, baseSequence: seq, lastOffsetDelta: count - 1)
    }

    @Test func inSequenceBatchesAppendAndARetryReturnsTheOriginalOffsets() throws {
        let state = PartitionProducerState()
        let log = FakeLog()
        #expect(try state.append(fields(seq: 0, count: 3)) { log.append(count: 3) } == .appended(.init(firstOffset: 0, lastOffset: 2, timestamp: 1000)))
        _ = try state.append(fields(seq: 3, count: 2)) { log.append(count: 2) }
        let retry = try state.append(fields(seq: 0, count: 3)) { log.append(count: 3) }
        guard case let .duplicate(original) = retry else {
            Issue.record("expected a duplicate, got \(retry)")
            return
        }
        #expect(original.firstOffset == 0)
        #expect(original.lastOffset == 2)
        #expect(log.appends == 2, "a duplicate is not appended")
    }

    @Test func aSequenceGapIsOutOfOrder() throws {
        let state = PartitionProducerState()
        let log = FakeLog()
        _ = try state.append(fields(seq: 0, count: 2)) { log.append(count: 2) }
        #expect(throws: ProducerStateError.outOfOrderSequence(producerId: 7, expectedAfter: 1, received: 5)) {
            try state.append(fields(seq: 5, count: 1)) { log.append(count: 1) }
        }
        #expect(log.appends == 1)
    }

    @Test func anOlderEpochIsFencedAndANewEpochMustStartAtZero() throws {
        let state = PartitionProducerState()
        let log = FakeLog()
        _ = try state.append(fields(epoch: 2, seq: 0, count: 1)) { log.append(count: 1) }
        #expect(throws: ProducerStateError.invalidProducerEpoch(producerId: 7, batchEpoch: 1, currentEpoch: 2)) {
            try state.append(fields(epoch: 1, seq: 1, count: 1)) { log.append(count: 1) }
        }
        #expect(throws: ProducerStateError.self) {
            try state.append(fields(epoch: 3, seq: 4, count: 1)) { log.append(count: 1) }
        }
        _ = try state.append(fields(epoch: 3, seq: 0, count: 1)) { log.append(count: 1) }
        #expect(state.entry(for: 7)?.producerEpoch == 3)
        #expect(log.appends == 2)
    }

    @Test func anUnknownProducerMayStartAtAnySequence() throws {
        let state = PartitionProducerState()
        let log = FakeLog()
        #expect(throws: Never.self) { try state.append(fields(seq: 42, count: 1)) { log.append(count: 1) } }
        #expect(state.entry(for: 7)?.lastSeq == 42)
    }

    @Test func onlyTheLastFiveBatchesAreRecognisedAsDuplicates() throws {
        let state = PartitionProducerState()
        let log = FakeLog()
        for seq in 0..<6 { _ = try state.append(fields(seq: Int32(seq), count: 1)) { log.append(count: 1) } }
        #expect(state.entry(for: 7)?.batches.count == 5)
        // Sequence 0 fell out of the window: it is neither a duplicate nor in sequence.
        #expect(throws: ProducerStateError.self) { try state.append(fields(seq: 0, count: 1)) { log.append(count: 1) } }
        guard case .duplicate = try state.append(fields(seq: 1, count: 1), perform: { log.append(count: 1) }) else {
            Issue.record("sequence 1 is still retained")
            return
        }
    }

    @Test func sequencesWrapFromInt32MaxToZero() throws {
        #expect(ProducerSequence.increment(Int32.max, by: 1) == 0)
        #expect(ProducerSequence.increment(Int32.max - 1, by: 3) == 1)
        #expect(ProducerSequence.decrement(1, by: 3) == Int32.max - 1)
        let state = PartitionProducerState()
        let log = FakeLog()
        _ = try state.append(fields(seq: Int32.max - 1, count: 2)) { log.append(count: 2) }
        #expect(throws: Never.self) { try state.append(fields(seq: 0, count: 1)) { log.append(count: 1) } }
    }

    @Test func batchesWithoutASequenceAreInvalid() {
        #expect(throws: ProducerStateError.self) {
            try PartitionProducerState.check(fields(seq: -1, count: 1), against: nil)
        }
    }

    @Test func snapshotsRoundTripAndKeepTheLastBatchPerProducer() throws {
        let state = PartitionProducerState()
        let log = FakeLog()
        _ = try state.append(fields(1, seq: 0, count: 2)) { log.append(count: 2) }
        _ = try state.append(fields(1, seq: 2, count: 3)) { log.append(count: 3) }
        _ = try state.append(fields(2, epoch: 4, seq: 10, count: 1)) { log.append(count: 1) }
        let snapshot = try #require(state.snapshotIfChanged())
        #expect(snapshot.offset == 6)
        let bytes = snapshot.encoded()
        #expect(bytes.count == 10 + 2 * ProducerSnapshot.entrySize)
        let decoded = try ProducerSnapshot(decoding: bytes, offset: 6)
        let restored = PartitionProducerState()
        restored.restore(decoded)
        #expect(restored.entry(for: 1)?.batches == [.init(firstSeq: 2, lastSeq: 4, firstOffset: 2, lastOffset: 4, timestamp: 1002)])
        #expect(restored.entry(for: 2)?.producerEpoch == 4)
        // After a restart only the last batch is recognised as a duplicate, and the next sequence follows it.
        guard case .duplicate = try restored.append(fields(1, seq: 2, count: 3), perform: { log.append(count: 3) }) else {
            Issue.record("the last batch must be a duplicate after restore")
            return
        }
        #expect(throws: Never.self) { try restored.append(fields(1, seq: 5, count: 1)) { log.append(count: 1) } }
        #expect(restored.snapshotIfChanged() != nil)
    }

    @Test func aCorruptSnapshotIsRejected() throws {
        let state = PartitionProducerState()
        let log = FakeLog()
        _ = try state.append(fields(seq: 0, count: 1)) { log.append(count: 1) }
        var bytes = try #require(state.snapshotIfChanged()).encoded()
        bytes[12] ^= 0xFF
        #expect(throws: ProducerSnapshotError.self) { try ProducerSnapshot(decoding: bytes, offset: 1) }
        #expect(throws: ProducerSnapshotError.self) { try ProducerSnapshot(decoding: Array(bytes.prefix(5)), offset: 1) }
        #expect(ProducerSnapshot.fileName(offset: 42) == "00000000000000000042.snapshot")
        #expect(ProducerSnapshot.offset(fromFileName: "00000000000000000042.snapshot") == 42)
        #expect(ProducerSnapshot.offset(fromFileName: "42.snapshot") == nil)
    }

    @Test func producerIdsAreNeverReusedAfterARestart() throws {
        let directory = try TemporaryDirectory()
        var seen = Set<Int64>()
        for _ in 0..<3 {
            let allocator = try ProducerIdAllocator(directory: directory.path)
            for _ in 0..<5 {
                let id = try allocator.allocate()
                #expect(seen.insert(id).inserted, "id \(id) handed out twice")
            }
        }
    }
}
