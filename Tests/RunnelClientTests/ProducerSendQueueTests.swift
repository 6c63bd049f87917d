import NIOCore
import RunnelRecords
import TestSupport
import Testing

@testable import RunnelClient

/// The producer's resend machinery without a broker: queue order under requeues and splits, batch splitting,
/// and restamping a batch with a new producer id.
@Suite struct ProducerSendQueueTests {
    /// A batch of records `first..<first + count` of partition 0, idempotent (producer 7, epoch 1), whose base
    /// sequence is its first record's index; record i has value "v<i>" and timestamp 1000 + i.
    private static func batch(first: Int, count: Int, order: Int) throws -> ProducerBatch {
        var builder = RecordBatchBuilder(producerId: 7, producerEpoch: 1, baseSequence: Int32(first))
        var indices = IndexRanges()
        for index in first..<first + count {
            builder.append(timestamp: 1000 + Int64(index), key: nil, value: ByteBuffer(string: "v\(index)"))
            indices.append(index)
        }
        return ProducerBatch(
            topicPartition: TopicPartition(topic: "t", partition: 0), bytes: try builder.build(), indices: indices,
            count: count, order: ProducerBatchOrder(major: order), createdAt: .now, producerId: 7, producerEpoch: 1,
            baseSequence: Int32(first))
    }

    private static func values(of batch: ProducerBatch) throws -> [String] {
        try RecordBatch(validating: batch.bytes).records().map { String(buffer: $0.value ?? ByteBuffer()) }
    }

    @Test func requeuedAndSplitBatchesGoOutAgainInRecordOrder() throws {
        for seed in UInt64(1)...200 {
            var rng = SplitMix64(seed: seed)
            var queue = PartitionSendQueue()
            var inFlight: [ProducerBatch] = []
            var next = 0
            for order in 0..<Int.random(in: 1...12, using: &rng) {
                let count = Int.random(in: 1...9, using: &rng)
                queue.append(try Self.batch(first: next, count: count, order: order))
                next += count
            }
            for _ in 0..<40 {
                switch Int.random(in: 0...2, using: &rng) {
                case 0:
                    if let batch = queue.removeFirst() { inFlight.append(batch) }
                case 1 where !inFlight.isEmpty:
                    queue.requeue(inFlight.remove(at: Int.random(in: 0..<inFlight.count, using: &rng)))
                case 2 where !inFlight.isEmpty:
                    let batch = inFlight.remove(at: Int.random(in: 0..<inFlight.count, using: &rng))
                    if let (first, second) = batch.split(compressionLevel: nil) {
                        queue.requeue(second)
                        queue.requeue(first)
                    } else {
                        queue.requeue(batch)
                    }
                default:
                    break
                }
            }
            for batch in inFlight { queue.requeue(batch) }
            var indices: [Int] = []
            var records: [String] = []
            while let batch = queue.removeFirst() {
                #expect(batch.baseSequence == Int32(batch.indices.ranges.first?.lowerBound ?? -1))
                indices += batch.indices.ranges.flatMap { Array($0) }
                records += try Self.values(of: batch)
            }
            #expect(indices == Array(0..<next), "seed \(seed)")
            #expect(records == (0..<next).map { "v\($0)" }, "seed \(seed)")
        }
    }

    @Test func splitHalvesKeepTimestampsSequencesAndTheProducer() throws {
        let whole = try Self.batch(first: 10, count: 5, order: 3)
        let (first, second) = try #require(whole.split(compressionLevel: nil))
        let head = try RecordBatch(validating: first.bytes).header
        let tail = try RecordBatch(validating: second.bytes).header
        #expect(first.count == 2 && second.count == 3)
        #expect(head.baseSequence == 10 && tail.baseSequence == 12)
        #expect(head.producerId == 7 && tail.producerEpoch == 1)
        #expect(head.baseTimestamp == 1010 && tail.baseTimestamp == 1012 && tail.maxTimestamp == 1014)
        #expect(first.order < second.order)
        #expect(second.order < ProducerBatchOrder(major: 4))
        #expect(ProducerBatchOrder(major: 2) < first.order)
        #expect(try Self.batch(first: 0, count: 1, order: 0).split(compressionLevel: nil) == nil)
    }

    @Test func restampRewritesTheProducerFieldsAndKeepsTheCRCValid() throws {
        var batch = try Self.batch(first: 0, count: 3, order: 0)
        batch.restamp(producerId: 99, producerEpoch: 4, baseSequence: 17)
        let header = try RecordBatch(validating: batch.bytes).header  // throws on a CRC mismatch
        #expect(header.producerId == 99 && header.producerEpoch == 4 && header.baseSequence == 17)
        #expect(try Self.values(of: batch) == ["v0", "v1", "v2"])
    }
}
