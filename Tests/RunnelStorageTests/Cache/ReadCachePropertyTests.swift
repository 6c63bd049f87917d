import NIOCore
import PropertyBased
import Testing
import TestSupport
@testable import RunnelStorage

/// Model-based check: random appends, lagging reads (miss → read-back insert), truncations, retention and topic
/// deletions against a model of each partition's log. After every step the cache is within budget and
/// internally consistent, and every hit returns exactly the log's current batches.
@Suite struct ReadCachePropertyTests {
    /// One partition's log in the model: whole batches, contiguous in offsets.
    struct ModelLog {
        var batches: [(base: Int64, last: Int64, bytes: ByteBuffer)] = []
        var nextOffset: Int64 = 0

        func index(containing offset: Int64) -> Int? {
            batches.firstIndex { $0.base <= offset && offset <= $0.last }
        }
    }

    @Test func budgetHoldsAndHitsMatchTheLogUnderRandomOperations() async {
        await propertyCheck(count: 40, input: Gen.int(in: 0...Int.max)) { seed in
            var rng = SplitMix64(seed: UInt64(seed))
            let budget = Int.random(in: 1_000...16_000, using: &rng)
            let cache = ReadCache(maxBytes: budget)
            let partitions = (0..<3).map { TopicPartition(topic: "p", partition: Int32($0)) }
            var logs = [ModelLog](repeating: ModelLog(), count: partitions.count)
            for step in 0..<250 {
                let p = Int.random(in: 0..<partitions.count, using: &rng)
                let tp = partitions[p]
                let choice = Int.random(in: 0..<100, using: &rng)
                if choice < 45 || logs[p].batches.isEmpty {
                    // Append (write-through).
                    let records = Int.random(in: 1...4, using: &rng)
                    let batch = cacheBatch(
                        logs[p].nextOffset, records: records, valueSize: Int.random(in: 0...300, using: &rng),
                        fill: UInt8.random(in: 0...255, using: &rng))
                    let last = logs[p].nextOffset + Int64(records) - 1
                    logs[p].batches.append((logs[p].nextOffset, last, batch))
                    logs[p].nextOffset = last + 1
                    cache.insert(tp, batch: batch, origin: .append)
                    if charge(of: batch) <= budget {
                        #expect(cache.read(tp, from: last, maxBytes: 1)?.chunks == [batch], "fresh append cached")
                    }
                } else if choice < 85 {
                    // A consumer reads somewhere in the log; on a miss it reads the log and offers the bytes.
                    let log = logs[p]
                    let first = log.batches[0].base
                    let offset = Int64.random(in: first..<log.nextOffset, using: &rng)
                    let maxBytes = Int.random(in: 1...3_000, using: &rng)
                    guard let start = log.index(containing: offset) else { continue }
                    if let hit = cache.read(tp, from: offset, maxBytes: maxBytes) {
                        #expect(!hit.chunks.isEmpty)
                        #expect(hit.chunks.count == 1 || hit.byteCount <= maxBytes)
                        for (index, chunk) in hit.chunks.enumerated() {
                            #expect(start + index < log.batches.count)
                            guard start + index < log.batches.count else { break }
                            #expect(chunk == log.batches[start + index].bytes, "step \(step): stale hit")
                        }
                        #expect(hit.nextOffset == log.batches[start + hit.chunks.count - 1].last + 1)
                    } else {
                        let run = log.batches[start..<min(log.batches.count, start + Int.random(in: 1...3, using: &rng))]
                        var bytes = ByteBuffer()
                        for batch in run { bytes.writeImmutableBuffer(batch.bytes) }
                        cache.insert(
                            tp, baseOffset: run[run.startIndex].base, lastOffset: run[run.endIndex - 1].last,
                            bytes: bytes, origin: .read)
                    }
                } else if choice < 93 {
                    // Truncation at a batch boundary (or mid-batch: the whole containing batch goes).
                    let offset = Int64.random(in: logs[p].batches[0].base...logs[p].nextOffset, using: &rng)
                    let keep = Array(logs[p].batches.prefix { $0.last < offset })
                    // The log keeps whole batches: it ends after the last batch entirely below `offset`.
                    logs[p].nextOffset = keep.last.map { $0.last + 1 } ?? logs[p].batches[0].base
                    logs[p].batches = keep
                    cache.invalidate(tp, from: offset)
                } else if choice < 98 {
                    // Retention / DeleteRecords.
                    let offset = Int64.random(in: logs[p].batches[0].base...logs[p].nextOffset, using: &rng)
                    logs[p].batches.removeAll { $0.last < offset }
                    cache.removeBelow(tp, offset: offset)
                } else {
                    // Topic deleted and recreated.
                    logs[p] = ModelLog()
                    cache.remove(tp)
                }
                let stats = cache.stats
                #expect(stats.bytes <= budget)
                let problems = cache.invariantViolations()
                #expect(problems.isEmpty, "step \(step): \(problems)")
                if !problems.isEmpty { return }
            }
        }
    }

    @Test func concurrentCallersKeepTheCacheConsistent() async {
        let cache = ReadCache(maxBytes: 64 * 1024)
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    let tp = TopicPartition(topic: "c", partition: Int32(worker))
                    for base in Int64(0)..<400 {
                        cache.insert(tp, batch: cacheBatch(base, valueSize: 200), origin: .append)
                        _ = cache.read(tp, from: base / 2, maxBytes: 4_096)
                        if base % 50 == 49 { cache.removeBelow(tp, offset: base - 20) }
                    }
                }
            }
        }
        #expect(cache.stats.bytes <= 64 * 1024)
        #expect(cache.invariantViolations().isEmpty)
    }
}
