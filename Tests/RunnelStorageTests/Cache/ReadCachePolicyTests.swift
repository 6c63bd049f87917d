import NIOCore
import Testing
@testable import RunnelStorage

/// The eviction policy (origin-aware S3-FIFO, `tools/cachesim/RESULTS.md`) on small caches of equal-sized batches.
@Suite struct ReadCachePolicyTests {
    let tp = TopicPartition(topic: "events", partition: 0)
    /// Every `cacheBatch(_, records: 1, valueSize: 100)` is charged this many bytes.
    let size = charge(of: cacheBatch(0))

    /// A cache holding exactly four test batches (probation target: 10% = 0.45 batches).
    func fourBatchCache() -> ReadCache { ReadCache(maxBytes: 4 * size + size / 2) }

    func mainQueue(_ cache: ReadCache) -> [Int64] { cache.residentBatches().main.map(\.baseOffset) }
    func probation(_ cache: ReadCache) -> [Int64] { cache.residentBatches().probation.map(\.baseOffset) }

    @Test func writtenThroughBatchesLeaveInAppendOrderEvenWhenRead() {
        let cache = fourBatchCache()
        for base in Int64(0)..<4 { cache.insert(tp, batch: cacheBatch(base), origin: .append) }
        #expect(cache.readBases(tp, from: 0, maxBytes: 1) == [0])  // LRU would now keep 0 and evict 1.
        cache.insert(tp, batch: cacheBatch(4), origin: .append)
        #expect(mainQueue(cache) == [1, 2, 3, 4])
        #expect(cache.stats.evictions == 1)
        #expect(cache.invariantViolations().isEmpty)
    }

    @Test func coldBatchOnProbationIsEvictedBeforeTheTailAndRememberedByTheGhost() {
        let cache = fourBatchCache()
        for base in Int64(0)..<3 { cache.insert(tp, batch: cacheBatch(base), origin: .append) }
        cache.insert(tp, batch: cacheBatch(100), origin: .read)
        #expect(probation(cache) == [100])
        cache.insert(tp, batch: cacheBatch(3), origin: .append)
        #expect(probation(cache) == [])
        #expect(mainQueue(cache) == [0, 1, 2, 3])
        // Read again soon after: the ghost admits it straight to main (evicting main's oldest).
        cache.insert(tp, batch: cacheBatch(100), origin: .read)
        #expect(probation(cache) == [])
        #expect(mainQueue(cache) == [1, 2, 3, 100])
        #expect(cache.stats.promotions == 1)
        #expect(cache.invariantViolations().isEmpty)
    }

    @Test func coldBatchReadAgainOnProbationIsPromotedAndKeptWhileRead() {
        let cache = fourBatchCache()
        for base in Int64(0)..<3 { cache.insert(tp, batch: cacheBatch(base), origin: .append) }
        cache.insert(tp, batch: cacheBatch(100), origin: .read)
        #expect(cache.readBases(tp, from: 100) == [100])
        cache.insert(tp, batch: cacheBatch(3), origin: .append)
        #expect(mainQueue(cache) == [1, 2, 100, 3])
        #expect(cache.stats.promotions == 1)
        // In main, a promoted cold batch read again is reinserted instead of evicted (one credit per read).
        #expect(cache.readBases(tp, from: 100) == [100])
        cache.insert(tp, batch: cacheBatch(4), origin: .append)
        cache.insert(tp, batch: cacheBatch(5), origin: .append)
        cache.insert(tp, batch: cacheBatch(6), origin: .append)
        #expect(mainQueue(cache) == [4, 5, 100, 6])
        // Without further reads it ages out like anything else.
        cache.insert(tp, batch: cacheBatch(7), origin: .append)
        cache.insert(tp, batch: cacheBatch(8), origin: .append)
        cache.insert(tp, batch: cacheBatch(9), origin: .append)
        #expect(mainQueue(cache) == [6, 7, 8, 9])
        #expect(cache.invariantViolations().isEmpty)
    }

    /// 16 tail readers, each 8 rounds behind its partition's producer, plus one consumer scanning 16x the cache
    /// from disk (2 cold batches of twice the tail's size per tail append). Between an append and its read,
    /// about 2.5x the budget is offered (charges: 4 KiB per tail batch, 8 KiB per cold one), so a policy that
    /// admitted the scan like the tail (LRU, FIFO, classic S3-FIFO) would evict tail batches before their readers
    /// got to them; here probation absorbs the scan and main (FIFO) keeps about 14 rounds of tail.
    @Test func longScanOfColdDataDoesNotEvictTheHotTail() {
        let budget = 1 << 20
        let cache = ReadCache(maxBytes: budget)
        let partitions = (0..<16).map { TopicPartition(topic: "tail", partition: Int32($0)) }
        let history = TopicPartition(topic: "history", partition: 0)
        let lagRounds = 8
        var scanOffset: Int64 = 0
        var scannedBytes = 0
        var tailReads = 0
        var tailMisses = 0
        var round = 0
        while scannedBytes < 16 * budget {
            for (index, partition) in partitions.enumerated() {
                cache.insert(partition, batch: cacheBatch(Int64(round), valueSize: 2_000), origin: .append)
                if round >= lagRounds {
                    tailReads += 1
                    if cache.read(partition, from: Int64(round - lagRounds), maxBytes: 1) == nil { tailMisses += 1 }
                }
                for _ in 0..<2 {
                    if cache.read(history, from: scanOffset, maxBytes: .max) == nil {
                        let cold = cacheBatch(scanOffset, valueSize: 4_000 + index)
                        cache.insert(history, batch: cold, origin: .read)
                        scannedBytes += cold.readableBytes
                    }
                    scanOffset += 1
                }
            }
            round += 1
            #expect(cache.stats.bytes <= budget)
        }
        #expect(tailReads > 1_000)
        #expect(tailMisses == 0)
        let stats = cache.stats
        #expect(stats.probationBytes <= budget / 10 + 8_192)
        #expect(stats.evictions > 1_000)
        #expect(cache.invariantViolations().isEmpty)
    }
}
