import NIOCore

extension ReadCache {
    /// Which FIFO an entry is in.
    enum QueueID: UInt8 {
        /// Not in a queue (a free slot).
        case none
        /// Probation (S3-FIFO's small queue): cold batches not read again yet.
        case probation
        /// Main: written-through batches and promoted cold ones.
        case main
    }

    /// One cached batch, stored in `State.entries` (a slab; slots are reused through `freeSlots`). Queues are
    /// intrusive doubly linked lists through `older`/`newer` slot numbers (-1: none).
    struct Entry {
        var partitionSlot: Int32
        var baseOffset: Int64
        var lastOffset: Int64
        /// The batch's own copy (an empty buffer in a free slot).
        var bytes: ByteBuffer
        /// Bytes charged against the budget: `bytes.storageCapacity` (the allocation, a power of two ≥ the batch).
        var charge: Int
        /// S3-FIFO's 2-bit frequency (0...3); only cold-origin batches earn it.
        var frequency: UInt8
        var isWrittenThrough: Bool
        var queue: QueueID
        /// The next entry to be evicted after this one is the `newer`; `older` is nearer the eviction end.
        var older: Int32
        var newer: Int32
    }

    /// A FIFO of entries: `oldest` is the next eviction candidate.
    struct Queue {
        var oldest: Int32 = -1
        var newest: Int32 = -1
        var bytes = 0
        var count = 0
    }

    /// The cached batches of one partition.
    struct PartitionEntries {
        let topicPartition: TopicPartition
        /// Unique for the cache's lifetime (slots are reused; ghost keys must not be).
        let uid: UInt64
        /// Base offset → entry slot, for every cached batch of the partition.
        var byBase: [Int64: Int32] = [:]
        /// Base offsets of written-through batches (ascending appends).
        var writtenThrough = SortedOffsets()
        /// Base offsets of cold batches (a sequential reader inserts ascending too, away from the tail).
        var readBack = SortedOffsets()
        /// `State.removalClock` at the last removal of a range of this partition (read-back tickets older than
        /// this are refused).
        var lastRemoval: UInt64
        /// When this partition's appends happened on `State.appendClock` (classes reads as tail or catch-up).
        var appendMarks = AppendMarks()
    }

    /// Everything behind the lock.
    struct State {
        let maxBytes: Int
        /// Probation's share of the budget.
        let probationTargetBytes: Int
        var entries: [Entry] = []
        var freeSlots: [Int32] = []
        var probation = Queue()
        var main = Queue()
        var partitions: [PartitionEntries?] = []
        var freePartitionSlots: [Int32] = []
        var partitionSlots: [TopicPartition: Int32] = [:]
        var nextPartitionUID: UInt64 = 0
        var ghost: GhostQueue
        var stats = ReadCacheStats()
        /// Ticks on every range removal, invalidation and partition removal (`CacheTicket`s are its values).
        var removalClock: UInt64 = 0
        /// The clock at the last removal that touched a partition without a slot (absent or removed since): a
        /// conservative bound for partitions that have none (and inherited by new slots).
        var lastAbsentRemoval: UInt64 = 0
        /// Buffers dropped under the lock, handed back to be freed after it.
        var released: [ByteBuffer] = []
        /// Bytes written through so far, all partitions together (offered, admitted or not): the clock that
        /// dates appends for the tail/catch-up split of the stats. A read is a tail read when its offset was
        /// appended within the last `maxBytes` of this clock.
        var appendClock: UInt64 = 0
        /// Minimum clock distance between two `AppendMarks` of one partition (1/64 of the window).
        let markSpacing: UInt64

        init(maxBytes: Int, probationFraction: Double) {
            self.maxBytes = maxBytes
            self.probationTargetBytes = Int(Double(maxBytes) * probationFraction)
            self.ghost = GhostQueue(maxBytes: maxBytes - Int(Double(maxBytes) * probationFraction), maxCount: 1024)
            stats.maxBytes = maxBytes
            self.markSpacing = UInt64(max(1, maxBytes / 64))
        }

        /// Dates an append of `byteCount` bytes at `baseOffset` of `tp` on the append clock.
        mutating func recordAppend(_ tp: TopicPartition, baseOffset: Int64, byteCount: Int) {
            let slot = Int(partitionSlot(for: tp))
            partitions[slot]?.appendMarks.record(
                offset: baseOffset, clock: appendClock, spacing: markSpacing, window: UInt64(maxBytes))
            appendClock &+= UInt64(max(0, byteCount))
        }

        /// Whether a read at `offset` of `partition` is a tail read (see `ReadCacheStats`).
        func isTailRead(_ partition: PartitionEntries?, offset: Int64) -> Bool {
            partition?.appendMarks.isRecent(offset, now: appendClock, window: UInt64(maxBytes)) ?? false
        }

        /// Bytes held: the sum of the charges of all queued entries.
        var usedBytes: Int { probation.bytes + main.bytes }

        mutating func takeReleased() -> [ByteBuffer] {
            defer { released = [] }
            return released
        }

        func snapshot() -> ReadCacheStats {
            var snapshot = stats
            snapshot.bytes = usedBytes
            snapshot.probationBytes = probation.bytes
            snapshot.entries = probation.count + main.count
            return snapshot
        }

        /// Whether a read-back insert with `ticket` may go in: nothing of `tp` was removed after the ticket.
        func isCurrent(_ ticket: CacheTicket?, for tp: TopicPartition) -> Bool {
            guard let ticket else { return true }
            if let slot = partitionSlots[tp], let partition = partitions[Int(slot)] {
                return partition.lastRemoval <= ticket.clock
            }
            return lastAbsentRemoval <= ticket.clock
        }

        /// Ticks the removal clock for `tp` (before any removal of its batches).
        mutating func recordRemoval(_ tp: TopicPartition) {
            removalClock += 1
            if let slot = partitionSlots[tp], partitions[Int(slot)] != nil {
                partitions[Int(slot)]?.lastRemoval = removalClock
            } else {
                lastAbsentRemoval = removalClock
            }
        }

        // MARK: - Lookup

        /// The slot of the cached batch of partition `partition` containing `offset`.
        func slot(in partition: PartitionEntries, containing offset: Int64) -> Int32? {
            if let slot = partition.byBase[offset] { return slot }
            return slot(in: partition, keys: partition.writtenThrough, containing: offset)
                ?? slot(in: partition, keys: partition.readBack, containing: offset)
        }

        /// The live batch whose base is `keys`' floor of `offset`, if it contains `offset`. (Batches of a partition
        /// never overlap, so no lower key can contain `offset` when the floor's batch does not.)
        private func slot(in partition: PartitionEntries, keys: SortedOffsets, containing offset: Int64) -> Int32? {
            guard let base = keys.floor(offset), let slot = partition.byBase[base],
                entries[Int(slot)].lastOffset >= offset
            else { return nil }
            return slot
        }

        mutating func read(_ tp: TopicPartition, from offset: Int64, maxBytes: Int, maxOffset: Int64)
            -> CachedBatches?
        {
            let partition = partitionSlots[tp].flatMap { partitions[Int($0)] }
            let isTail = isTailRead(partition, offset: offset)
            guard let partition, var slot = slot(in: partition, containing: offset) else {
                stats.misses += 1
                if isTail { stats.tailMisses += 1 } else { stats.catchUpMisses += 1 }
                return nil
            }
            var chunks: [ByteBuffer] = []
            var total = 0
            var next = offset
            while true {
                let entry = entries[Int(slot)]
                guard entry.lastOffset < maxOffset else { break }
                if !chunks.isEmpty && total + entry.bytes.readableBytes > maxBytes { break }
                chunks.append(entry.bytes)
                total += entry.bytes.readableBytes
                next = entry.lastOffset + 1
                if !entry.isWrittenThrough && entry.frequency < 3 { entries[Int(slot)].frequency += 1 }
                guard entry.lastOffset < Int64.max, let following = partition.byBase[entry.lastOffset + 1] else { break }
                slot = following
            }
            if !chunks.isEmpty {
                stats.hits += 1
                stats.hitBytes += total
                if isTail { stats.tailHits += 1 } else { stats.catchUpHits += 1 }
            }
            return CachedBatches(chunks: chunks, nextOffset: next, byteCount: total)
        }

        // MARK: - Admission

        /// Admits one batch (already copied) under the policy; evicts first to keep `usedBytes ≤ maxBytes`.
        /// - Parameter gated: a cold batch that already passed the ghost gate (`gateColdBatches`, which removed
        ///   its ghost key): it goes on probation. Ungated cold inserts follow plain S3-FIFO (ghost hit → main).
        /// - Returns: whether the batch was added (false: already cached, or too big).
        @discardableResult
        mutating func admit(_ tp: TopicPartition, _ batch: CopiedBatch, origin: CacheInsertOrigin, gated: Bool = false)
            -> Bool
        {
            guard let bytes = batch.bytes, bytes.storageCapacity <= maxBytes else {
                stats.rejected += 1
                return false
            }
            let partitionSlot = partitionSlot(for: tp)
            let uid = partitions[Int(partitionSlot)]?.uid ?? 0
            if let existing = partitions[Int(partitionSlot)]?.byBase[batch.baseOffset],
                entries[Int(existing)].lastOffset == batch.lastOffset
            {
                return false
            }
            removeOverlapping(partitionSlot, baseOffset: batch.baseOffset, lastOffset: batch.lastOffset)
            let charge = bytes.storageCapacity
            var queue = QueueID.probation
            if origin == .append {
                queue = .main
            } else if !gated && ghost.remove(GhostKey(partitionUID: uid, baseOffset: batch.baseOffset)) {
                queue = .main
                stats.promotions += 1
            }
            while usedBytes + charge > maxBytes { evictOne() }
            let entry = Entry(
                partitionSlot: partitionSlot, baseOffset: batch.baseOffset, lastOffset: batch.lastOffset,
                bytes: bytes, charge: charge, frequency: 0, isWrittenThrough: origin == .append, queue: .none,
                older: -1, newer: -1)
            let slot: Int32
            if let free = freeSlots.popLast() {
                slot = free
                entries[Int(slot)] = entry
            } else {
                slot = Int32(entries.count)
                entries.append(entry)
            }
            pushNewest(slot, into: queue)
            partitions[Int(partitionSlot)]?.byBase[batch.baseOffset] = slot
            if origin == .append {
                partitions[Int(partitionSlot)]?.writtenThrough.insert(batch.baseOffset)
            } else {
                partitions[Int(partitionSlot)]?.readBack.insert(batch.baseOffset)
            }
            stats.inserts += 1
            stats.insertedBytes += charge
            ghost.maxCount = max(1024, probation.count + main.count)
            return true
        }

        /// The partition's slot, created on first use.
        mutating func partitionSlot(for tp: TopicPartition) -> Int32 {
            if let slot = partitionSlots[tp] { return slot }
            nextPartitionUID += 1
            let entries = PartitionEntries(topicPartition: tp, uid: nextPartitionUID, lastRemoval: lastAbsentRemoval)
            let slot: Int32
            if let free = freePartitionSlots.popLast() {
                slot = free
                partitions[Int(slot)] = entries
            } else {
                slot = Int32(partitions.count)
                partitions.append(entries)
            }
            partitionSlots[tp] = slot
            return slot
        }

        /// Removes cached batches of the partition whose offsets intersect `baseOffset...lastOffset`.
        mutating func removeOverlapping(_ partitionSlot: Int32, baseOffset: Int64, lastOffset: Int64) {
            // Collect first, then remove: holding a copy of the partition while mutating it would copy its tables.
            let victims = overlapping(partitionSlot, baseOffset: baseOffset, lastOffset: lastOffset)
            for slot in victims where entries[Int(slot)].queue != .none { removeEntry(slot) }
        }

        /// Slots of the partition's cached batches intersecting `baseOffset...lastOffset` (maybe repeated).
        func overlapping(_ partitionSlot: Int32, baseOffset: Int64, lastOffset: Int64) -> [Int32] {
            guard let partition = partitions[Int(partitionSlot)] else { return [] }
            var victims: [Int32] = []
            if let slot = slot(in: partition, containing: baseOffset) { victims.append(slot) }
            func collect(_ keys: SortedOffsets) {
                var index = keys.lowerBound(baseOffset)
                while index < keys.keys.count && keys.keys[index] <= lastOffset {
                    if let slot = partition.byBase[keys.keys[index]] { victims.append(slot) }
                    index += 1
                }
            }
            collect(partition.writtenThrough)
            collect(partition.readBack)
            return victims
        }

        // MARK: - Queues

        mutating func pushNewest(_ slot: Int32, into queueID: QueueID) {
            precondition(queueID != .none && entries[Int(slot)].queue == .none, "entry already queued")
            var queue = queueID == .main ? main : probation
            entries[Int(slot)].queue = queueID
            entries[Int(slot)].older = queue.newest
            entries[Int(slot)].newer = -1
            if queue.newest >= 0 { entries[Int(queue.newest)].newer = slot } else { queue.oldest = slot }
            queue.newest = slot
            queue.bytes += entries[Int(slot)].charge
            queue.count += 1
            if queueID == .main { main = queue } else { probation = queue }
        }

        mutating func unlink(_ slot: Int32) {
            let entry = entries[Int(slot)]
            precondition(entry.queue != .none, "unlinking an entry that is not queued")
            var queue = entry.queue == .main ? main : probation
            if entry.older >= 0 { entries[Int(entry.older)].newer = entry.newer } else { queue.oldest = entry.newer }
            if entry.newer >= 0 { entries[Int(entry.newer)].older = entry.older } else { queue.newest = entry.older }
            queue.bytes -= entry.charge
            queue.count -= 1
            if entry.queue == .main { main = queue } else { probation = queue }
            entries[Int(slot)].queue = .none
            entries[Int(slot)].older = -1
            entries[Int(slot)].newer = -1
        }
    }
}
