import NIOCore
import Testing
@testable import RunnelStorage

@Suite struct ReadCacheTests {
    let tp = TopicPartition(topic: "orders", partition: 0)
    let other = TopicPartition(topic: "orders", partition: 1)

    // MARK: - Hits and misses

    @Test func readMissesOnEmptyCacheAndHitsAfterWriteThrough() {
        let cache = ReadCache(maxBytes: 1 << 20)
        #expect(cache.read(tp, from: 0, maxBytes: 1_000) == nil)
        let batch = cacheBatch(0, records: 5)
        cache.insert(tp, batch: batch, origin: .append)
        let hit = cache.read(tp, from: 0, maxBytes: 1_000)
        #expect(hit?.chunks == [batch])
        #expect(hit?.nextOffset == 5)
        #expect(hit?.byteCount == batch.readableBytes)
        #expect(cache.read(tp, from: 5, maxBytes: 1_000) == nil)
        #expect(cache.read(other, from: 0, maxBytes: 1_000) == nil)
        let stats = cache.stats
        #expect(stats.hits == 1)
        #expect(stats.misses == 3)
        #expect(stats.hitBytes == batch.readableBytes)
        #expect(stats.inserts == 1)
        #expect(stats.entries == 1)
    }

    @Test func offsetInsideABatchReturnsTheWholeBatchContainingIt() {
        let cache = ReadCache(maxBytes: 1 << 20)
        cache.insert(tp, batch: cacheBatch(10, records: 5), origin: .append)
        cache.insert(tp, batch: cacheBatch(15, records: 5), origin: .read)
        #expect(cache.readBases(tp, from: 12) == [10, 15])
        #expect(cache.readBases(tp, from: 14) == [10, 15])
        #expect(cache.readBases(tp, from: 17) == [15])
        #expect(cache.readBases(tp, from: 9) == nil)
        #expect(cache.readBases(tp, from: 20) == nil)
    }

    @Test func readReturnsContiguousBatchesWithinMaxBytesAndBelowMaxOffset() {
        let cache = ReadCache(maxBytes: 1 << 20)
        let batches = (0..<4).map { cacheBatch(Int64($0) * 3, records: 3, valueSize: 50) }
        for batch in batches { cache.insert(tp, batch: batch, origin: .append) }
        let size = batches[0].readableBytes
        #expect(cache.readBases(tp, from: 0) == [0, 3, 6, 9])
        #expect(cache.read(tp, from: 0, maxBytes: .max)?.nextOffset == 12)
        #expect(cache.readBases(tp, from: 0, maxBytes: 2 * size) == [0, 3])
        #expect(cache.readBases(tp, from: 0, maxBytes: 2 * size - 1) == [0])
        // The first batch comes whole even when bigger than maxBytes (minOneBatch, as PartitionLog.read).
        #expect(cache.readBases(tp, from: 4, maxBytes: 1) == [3])
        let limited = cache.read(tp, from: 0, maxBytes: .max, maxOffset: 9)
        #expect(limited?.chunks.count == 3)
        #expect(limited?.nextOffset == 9)
        let none = cache.read(tp, from: 0, maxBytes: .max, maxOffset: 2)
        #expect(none?.chunks.isEmpty == true)
        #expect(none?.nextOffset == 0)
    }

    @Test func aGapInCachedOffsetsEndsTheHit() {
        let cache = ReadCache(maxBytes: 1 << 20)
        cache.insert(tp, batch: cacheBatch(0, records: 2), origin: .append)
        cache.insert(tp, batch: cacheBatch(5, records: 2), origin: .append)
        #expect(cache.readBases(tp, from: 0) == [0])
        #expect(cache.read(tp, from: 0, maxBytes: .max)?.nextOffset == 2)
        #expect(cache.readBases(tp, from: 5) == [5])
    }

    @Test func multiBatchInsertIsSplitIntoBatches() {
        let cache = ReadCache(maxBytes: 1 << 20)
        var run = cacheBatch(0, records: 2)
        var second = cacheBatch(2, records: 3)
        run.writeBuffer(&second)
        cache.insert(tp, baseOffset: 0, lastOffset: 4, bytes: run, origin: .append)
        #expect(cache.stats.entries == 2)
        #expect(cache.readBases(tp, from: 3) == [2])
        #expect(cache.readBases(tp, from: 0) == [0, 2])
    }

    // MARK: - Zero copy and accounting

    @Test func hitsShareTheCachedStorageInsteadOfCopying() {
        let cache = ReadCache(maxBytes: 1 << 20)
        cache.insert(tp, batch: cacheBatch(0, records: 3), origin: .append)
        let first = cache.read(tp, from: 0, maxBytes: .max)?.chunks.first
        let second = cache.read(tp, from: 1, maxBytes: .max)?.chunks.first
        let firstAddress = first?.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        let secondAddress = second?.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        #expect(firstAddress != nil)
        #expect(firstAddress == secondAddress)
    }

    @Test func insertCopiesTheBatchOutOfALargerBufferAndChargesOnlyItsBytes() {
        let cache = ReadCache(maxBytes: 1 << 20)
        let batch = cacheBatch(0, records: 2)
        var request = ByteBufferAllocator().buffer(capacity: 256 * 1024)
        request.writeRepeatingByte(0xEE, count: 1_000)  // a request header and other partitions' data
        request.writeImmutableBuffer(batch)
        request.writeRepeatingByte(0xEE, count: 100_000)
        let slice = request.getSlice(at: 1_000, length: batch.readableBytes) ?? ByteBuffer()
        cache.insert(tp, batch: slice, origin: .append)
        let stats = cache.stats
        #expect(stats.bytes == charge(of: batch))
        #expect(stats.bytes < 2 * batch.readableBytes)
        #expect(stats.bytes == stats.insertedBytes)
        #expect(cache.read(tp, from: 0, maxBytes: .max)?.chunks == [batch])
        #expect(cache.invariantViolations().isEmpty)
    }

    @Test func aBufferHoldingExactlyOneBatchInItsOwnStorageIsKeptWithoutACopy() {
        let cache = ReadCache(maxBytes: 1 << 20)
        let source = cacheBatch(0, records: 2)
        var own = ByteBufferAllocator().buffer(capacity: source.readableBytes)  // like the append path's copy
        own.writeImmutableBuffer(source)
        let ownAddress = own.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        cache.insert(tp, batch: own, origin: .append)
        let hit = cache.read(tp, from: 0, maxBytes: .max)?.chunks.first
        #expect(hit?.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) } == ownAddress)
        #expect(cache.stats.bytes == own.storageCapacity)
        #expect(hit == source)
        #expect(cache.invariantViolations().isEmpty)
    }

    @Test func batchLargerThanTheBudgetIsRejected() {
        let batch = cacheBatch(0, records: 10, valueSize: 200)
        let cache = ReadCache(maxBytes: charge(of: batch) - 1)
        cache.insert(tp, batch: batch, origin: .append)
        #expect(cache.stats.rejected == 1)
        #expect(cache.stats.bytes == 0)
        #expect(cache.read(tp, from: 0, maxBytes: .max) == nil)
    }

    @Test func bytesThatDoNotMatchTheAnnouncedOffsetsAreRejected() {
        let cache = ReadCache(maxBytes: 1 << 20)
        let batch = cacheBatch(0, records: 3)
        cache.insert(tp, baseOffset: 1, lastOffset: 2, bytes: batch, origin: .append)
        cache.insert(tp, baseOffset: 0, lastOffset: 7, bytes: batch, origin: .append)
        cache.insert(tp, baseOffset: 0, lastOffset: 2, bytes: batch.getSlice(at: 0, length: 40) ?? batch, origin: .append)
        var garbage = ByteBufferAllocator().buffer(capacity: 100)
        garbage.writeRepeatingByte(0xFF, count: 100)
        cache.insert(tp, baseOffset: 0, lastOffset: 2, bytes: garbage, origin: .read)
        #expect(cache.stats.rejected == 4)
        #expect(cache.stats.entries == 0)
    }

    @Test func disabledCacheHoldsNothing() {
        let cache = ReadCache(maxBytes: 0)
        #expect(!cache.isEnabled)
        cache.insert(tp, batch: cacheBatch(0), origin: .append)
        #expect(cache.read(tp, from: 0, maxBytes: .max) == nil)
        cache.invalidate(tp, from: 0)
        cache.removeBelow(tp, offset: 10)
        cache.remove(tp)
        #expect(cache.stats == ReadCacheStats())
        #expect(ReadCache(maxBytes: -5).isEnabled == false)
    }

    // MARK: - Removal

    @Test func invalidateDropsTheBatchContainingTheOffsetAndEverythingAfter() {
        let cache = ReadCache(maxBytes: 1 << 20)
        for base in stride(from: Int64(0), to: 20, by: 5) {
            cache.insert(tp, batch: cacheBatch(base, records: 5), origin: base < 10 ? .read : .append)
        }
        cache.insert(other, batch: cacheBatch(0, records: 5), origin: .append)
        cache.invalidate(tp, from: 7)
        #expect(cache.readBases(tp, from: 0) == [0])
        #expect(cache.readBases(tp, from: 5) == nil)
        #expect(cache.readBases(tp, from: 15) == nil)
        #expect(cache.readBases(other, from: 0) == [0])
        // The log is truncated to 5 and appends continue with different batches.
        cache.insert(tp, batch: cacheBatch(5, records: 2, fill: 0x62), origin: .append)
        #expect(cache.readBases(tp, from: 0) == [0, 5])
        #expect(cache.read(tp, from: 6, maxBytes: .max)?.nextOffset == 7)
        #expect(cache.invariantViolations().isEmpty)
    }

    @Test func removeBelowKeepsTheBatchContainingTheOffset() {
        let cache = ReadCache(maxBytes: 1 << 20)
        for base in stride(from: Int64(0), to: 20, by: 5) {
            cache.insert(tp, batch: cacheBatch(base, records: 5), origin: .append)
        }
        cache.removeBelow(tp, offset: 12)
        #expect(cache.readBases(tp, from: 4) == nil)
        #expect(cache.readBases(tp, from: 9) == nil)
        #expect(cache.readBases(tp, from: 12) == [10, 15])
        #expect(cache.stats.entries == 2)
        #expect(cache.invariantViolations().isEmpty)
    }

    @Test func removeDropsOnlyThatPartitionAndARecreatedTopicStartsEmpty() {
        let cache = ReadCache(maxBytes: 1 << 20)
        cache.insert(tp, batch: cacheBatch(0), origin: .append)
        cache.insert(other, batch: cacheBatch(0), origin: .append)
        cache.remove(tp)
        #expect(cache.read(tp, from: 0, maxBytes: .max) == nil)
        #expect(cache.readBases(other, from: 0) == [0])
        #expect(cache.stats.entries == 1)
        #expect(cache.stats.bytes == charge(of: cacheBatch(0)))
        cache.insert(tp, batch: cacheBatch(0, fill: 0x7A), origin: .append)
        #expect(cache.read(tp, from: 0, maxBytes: .max)?.chunks == [cacheBatch(0, fill: 0x7A)])
        #expect(cache.invariantViolations().isEmpty)
    }

    @Test func overlappingInsertReplacesTheStaleBatch() {
        let cache = ReadCache(maxBytes: 1 << 20)
        cache.insert(tp, batch: cacheBatch(0, records: 2), origin: .append)
        cache.insert(tp, batch: cacheBatch(2, records: 2), origin: .append)
        // Compaction rewrote 0...3 as one batch; the caller offers the new bytes.
        let merged = cacheBatch(0, records: 4, fill: 0x63)
        cache.insert(tp, batch: merged, origin: .read)
        #expect(cache.read(tp, from: 2, maxBytes: .max)?.chunks == [merged])
        #expect(cache.stats.entries == 1)
        #expect(cache.invariantViolations().isEmpty)
    }

    @Test func removeRangeDropsOnlyBatchesIntersectingIt() {
        let cache = ReadCache(maxBytes: 1 << 20)
        for base in stride(from: Int64(0), to: 20, by: 5) {
            cache.insert(tp, batch: cacheBatch(base, records: 5), origin: .append)
        }
        cache.remove(tp, offsets: 7..<11)  // intersects 5...9 and 10...14
        #expect(cache.readBases(tp, from: 0) == [0])
        #expect(cache.readBases(tp, from: 5) == nil)
        #expect(cache.readBases(tp, from: 12) == nil)
        #expect(cache.readBases(tp, from: 15) == [15])
        #expect(cache.invariantViolations().isEmpty)
    }

    @Test func readBackInsertWithATicketOlderThanARemovalIsRefused() {
        let cache = ReadCache(maxBytes: 1 << 20)
        cache.insert(tp, batch: cacheBatch(20), origin: .append)
        // A consumer takes a ticket and reads old segments; compaction swaps them before it offers the bytes.
        let before = cache.ticket()
        cache.remove(tp, offsets: 0..<10)
        cache.insert(tp, batch: cacheBatch(0, records: 5), origin: .read, ticket: before)
        #expect(cache.read(tp, from: 0, maxBytes: .max) == nil)
        #expect(cache.stats.rejected == 1)
        // Other partitions are not affected by the removal, and a fresh ticket is accepted.
        cache.insert(other, batch: cacheBatch(0), origin: .read, ticket: before)
        #expect(cache.readBases(other, from: 0) == [0])
        cache.insert(tp, batch: cacheBatch(0, records: 5), origin: .read, ticket: cache.ticket())
        #expect(cache.readBases(tp, from: 0) == [0])
        // A deleted-then-recreated topic refuses bytes read before the deletion.
        let beforeDelete = cache.ticket()
        cache.remove(tp)
        cache.insert(tp, batch: cacheBatch(0, records: 5), origin: .read, ticket: beforeDelete)
        cache.insert(tp, batch: cacheBatch(20), origin: .append)
        cache.insert(tp, batch: cacheBatch(0, records: 5), origin: .read, ticket: beforeDelete)
        #expect(cache.read(tp, from: 0, maxBytes: .max) == nil)
        #expect(cache.stats.rejected == 3)
    }
}
