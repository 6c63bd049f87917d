import NIOCore
import PropertyBased
import RunnelRecords
import Testing
import TestSupport
@testable import RunnelStorage

/// Random interleavings of appends, lagging and scanning reads (with cold read-backs running), DeleteRecords and
/// cache invalidations on two real partitions sharing a small cache: the cache stays within its budget and
/// consistent, and every read — memory or file — returns exactly the log's batches.
@Suite struct ColdAdmissionPropertyTests {
    /// What the log holds, per partition: base offset → (last offset, CRC), in offset order.
    typealias Model = [(base: Int64, last: Int64, crc: UInt32)]

    @Test func budgetHoldsAndEveryReadMatchesTheLogWithColdAdmission() async {
        await propertyCheck(count: 12, input: Gen.int(in: 0...Int.max)) { seed in
            var rng = SplitMix64(seed: UInt64(seed))
            let budget = Int.random(in: 8_192...65_536, using: &rng)
            do {
                try TempDirectory.with { dir in
                    let config = testConfig(segmentBytes: 8_192)
                    let manager = try openManager(dir, config: config, readCacheBytes: budget)
                    defer { try? manager.close() }
                    let cache = manager.readCache
                    let partitions = (0..<2).map { TopicPartition(topic: "p", partition: Int32($0)) }
                    let logs = try partitions.map { try manager.getOrCreateLog($0, config: config) }
                    var models = [Model](repeating: [], count: partitions.count)
                    for step in 0..<150 {
                        let p = Int.random(in: 0..<partitions.count, using: &rng)
                        let log = logs[p]
                        let choice = Int.random(in: 0..<100, using: &rng)
                        if choice < 40 || models[p].isEmpty {
                            let records = Int.random(in: 1...5, using: &rng)
                            let batch = TestBatches.make(
                                count: records, valueSize: Int.random(in: 0...600, using: &rng),
                                fill: UInt8.random(in: 0...255, using: &rng))
                            let header = try RecordBatchHeader(parsing: batch, at: batch.readerIndex)
                            let info = try log.append(batch, now: 1)
                            models[p].append((info.firstOffset, info.lastOffset, header.crc))
                        } else if choice < 90 {
                            // A read anywhere from the start (a scanner or a lagging consumer), then maybe let the
                            // read-backs run (they otherwise race with the next steps).
                            let offset = Int64.random(in: log.logStartOffset...log.logEndOffset, using: &rng)
                            let maxBytes = Int.random(in: 1...8_192, using: &rng)
                            let result = try log.read(from: offset, maxBytes: maxBytes)
                            try Self.expect(result, from: offset, matches: models[p], step: step)
                            if Bool.random(using: &rng) { cache.coldReads.drain() }
                        } else if choice < 95 {
                            let before = Int64.random(in: log.logStartOffset...log.logEndOffset, using: &rng)
                            _ = try log.deleteRecords(before: before)
                        } else {
                            // The cache forgets a suffix (as on truncation); the log still holds it.
                            cache.invalidate(partitions[p], from: Int64.random(in: 0...log.logEndOffset, using: &rng))
                        }
                        let problems = cache.invariantViolations()
                        #expect(problems.isEmpty, "step \(step): \(problems)")
                        #expect(cache.stats.bytes <= budget)
                    }
                    cache.coldReads.drain()
                    #expect(cache.invariantViolations().isEmpty)
                }
            } catch {
                Issue.record("seed \(seed): \(error)")
            }
        }
    }

    /// The read's batches are whole, CRC-valid, start with the batch containing `offset`, and follow the model.
    static func expect(_ result: LogReadResult, from offset: Int64, matches model: Model, step: Int) throws {
        let batches = try TestBatches.split(try result.readAllBytes())
        guard let first = batches.first else {
            #expect(result.nextOffset == offset, "step \(step): empty read moved on")
            return
        }
        guard let start = model.firstIndex(where: { $0.base <= offset && offset <= $0.last }) else {
            Issue.record("step \(step): no batch holds \(offset)")
            return
        }
        #expect(first.header.baseOffset == model[start].base, "step \(step): wrong first batch")
        for (index, batch) in batches.enumerated() {
            guard start + index < model.count else {
                Issue.record("step \(step): more batches than the log holds")
                return
            }
            let expected = model[start + index]
            #expect(batch.header.baseOffset == expected.base && batch.header.lastOffset == expected.last)
            #expect(batch.header.crc == expected.crc, "step \(step): stale bytes at \(expected.base)")
        }
    }
}
