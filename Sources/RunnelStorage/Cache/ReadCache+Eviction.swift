import NIOCore

extension ReadCache.State {
    // MARK: - Eviction (origin-aware S3-FIFO)

    /// Frees at least one entry. Probation is evicted from while it holds at least its target share (or main is
    /// empty); otherwise main. O(1) amortized: see `evictFromProbation` and `evictFromMain`.
    mutating func evictOne() {
        precondition(usedBytes > 0, "evicting from an empty cache")
        if probation.bytes >= probationTargetBytes || main.count == 0 {
            evictFromProbation()
        } else {
            evictFromMain()
        }
    }

    /// Takes probation's oldest entries: one read again since admission (frequency ≥ 1) moves to main (once per
    /// admission), the first one never read again is evicted and remembered by the ghost. Falls back to main when
    /// probation empties by promotions.
    mutating func evictFromProbation() {
        while probation.oldest >= 0 {
            let slot = probation.oldest
            unlink(slot)
            if entries[Int(slot)].frequency >= 1 {
                entries[Int(slot)].frequency = 0
                pushNewest(slot, into: .main)
                stats.promotions += 1
                continue
            }
            let entry = entries[Int(slot)]
            if let uid = partitions[Int(entry.partitionSlot)]?.uid {
                ghost.add(GhostKey(partitionUID: uid, baseOffset: entry.baseOffset), bytes: entry.charge)
            }
            evicted(slot)
            return
        }
        evictFromMain()
    }

    /// Takes main's oldest entries: one with frequency credit (a promoted cold batch read again) is reinserted at
    /// the newest end with one credit spent; the first without credit is evicted. Written-through batches never
    /// earn credit, so for them main is FIFO by append order. Each reinsertion spends a credit earned by a read
    /// (at most 3 per entry at a time), so the work is O(1) amortized per read and insert.
    mutating func evictFromMain() {
        while main.oldest >= 0 {
            let slot = main.oldest
            unlink(slot)
            if entries[Int(slot)].frequency > 0 {
                entries[Int(slot)].frequency -= 1
                pushNewest(slot, into: .main)
                continue
            }
            evicted(slot)
            return
        }
    }

    /// Drops an unlinked entry for room (counted as an eviction).
    private mutating func evicted(_ slot: Int32) {
        stats.evictions += 1
        stats.evictedBytes += entries[Int(slot)].charge
        let partitionSlot = entries[Int(slot)].partitionSlot
        release(slot)
        compactKeysIfNeeded(partitionSlot)
    }

    // MARK: - Removal

    /// Unlinks and frees an entry (invalidation, removal or replacement: not counted as an eviction). Sorted keys
    /// are left stale; callers compact them when done.
    mutating func removeEntry(_ slot: Int32) {
        unlink(slot)
        release(slot)
    }

    /// Frees an unlinked entry's slot and hands its bytes to `released` (freed after the lock).
    private mutating func release(_ slot: Int32) {
        let entry = entries[Int(slot)]
        precondition(entry.queue == .none, "releasing a queued entry")
        if partitions[Int(entry.partitionSlot)]?.byBase[entry.baseOffset] == slot {
            partitions[Int(entry.partitionSlot)]?.byBase[entry.baseOffset] = nil
        }
        released.append(entry.bytes)
        entries[Int(slot)].bytes = ByteBuffer()
        entries[Int(slot)].charge = 0
        freeSlots.append(slot)
    }

    /// Rebuilds the partition's sorted keys when stale keys outnumber live batches (amortized O(1) per removal).
    mutating func compactKeysIfNeeded(_ partitionSlot: Int32) {
        guard let partition = partitions[Int(partitionSlot)] else { return }
        let keyCount = partition.writtenThrough.count + partition.readBack.count
        guard keyCount > 2 * partition.byBase.count + 32 else { return }
        let byBase = partition.byBase
        partitions[Int(partitionSlot)]?.writtenThrough.retainOnly { byBase[$0] != nil }
        partitions[Int(partitionSlot)]?.readBack.retainOnly { byBase[$0] != nil }
    }

    /// Drops the partition's batches whose last offset ≥ `offset`.
    mutating func invalidate(_ tp: TopicPartition, from offset: Int64) {
        recordRemoval(tp)
        if let partitionSlot = partitionSlots[tp] { partitions[Int(partitionSlot)]?.appendMarks.dropFrom(offset) }
        guard let partitionSlot = partitionSlots[tp], let plan = truncationPlan(partitionSlot, from: offset) else {
            return
        }
        partitions[Int(partitionSlot)]?.writtenThrough.truncate(fromIndex: plan.writtenThroughCut)
        partitions[Int(partitionSlot)]?.readBack.truncate(fromIndex: plan.readBackCut)
        for slot in plan.victims where entries[Int(slot)].queue != .none { removeEntry(slot) }
        compactKeysIfNeeded(partitionSlot)
    }

    /// Drops the partition's batches whose last offset < `offset`.
    mutating func removeBelow(_ tp: TopicPartition, offset: Int64) {
        recordRemoval(tp)
        guard let partitionSlot = partitionSlots[tp], let plan = retentionPlan(partitionSlot, below: offset) else {
            return
        }
        partitions[Int(partitionSlot)]?.writtenThrough.dropPrefix(upToIndex: plan.writtenThroughCut)
        partitions[Int(partitionSlot)]?.readBack.dropPrefix(upToIndex: plan.readBackCut)
        for slot in plan.victims where entries[Int(slot)].queue != .none { removeEntry(slot) }
        compactKeysIfNeeded(partitionSlot)
    }

    /// What a range removal drops: entry slots, and where to cut each sorted key list. Computed without mutating
    /// (holding a copy of the partition while mutating it would copy its tables).
    struct RemovalPlan {
        var victims: [Int32] = []
        var writtenThroughCut = 0
        var readBackCut = 0
    }

    /// Truncation at `offset`: each list is cut at its first key ≥ `offset`, or at its floor key when that batch
    /// reaches `offset` (a live batch's key is always in its own list, so straddling batches are found).
    func truncationPlan(_ partitionSlot: Int32, from offset: Int64) -> RemovalPlan? {
        guard let partition = partitions[Int(partitionSlot)] else { return nil }
        var plan = RemovalPlan()
        func cut(_ keys: SortedOffsets) -> Int {
            var index = keys.lowerBound(offset)
            if index > keys.start, let slot = partition.byBase[keys.keys[index - 1]],
                entries[Int(slot)].lastOffset >= offset
            {
                index -= 1
            }
            for key in keys.keys[index...] {
                if let slot = partition.byBase[key] { plan.victims.append(slot) }
            }
            return index
        }
        plan.writtenThroughCut = cut(partition.writtenThrough)
        plan.readBackCut = cut(partition.readBack)
        return plan
    }

    /// Retention below `offset`: keys below `offset` go, except the batch containing `offset`, which stays.
    func retentionPlan(_ partitionSlot: Int32, below offset: Int64) -> RemovalPlan? {
        guard let partition = partitions[Int(partitionSlot)] else { return nil }
        var plan = RemovalPlan()
        func cut(_ keys: SortedOffsets) -> Int {
            let end = keys.lowerBound(offset)
            var keep = end
            for index in keys.start..<end {
                guard let slot = partition.byBase[keys.keys[index]] else { continue }
                if entries[Int(slot)].lastOffset < offset { plan.victims.append(slot) } else { keep = index }
            }
            return keep
        }
        plan.writtenThroughCut = cut(partition.writtenThrough)
        plan.readBackCut = cut(partition.readBack)
        return plan
    }

    /// Drops the partition's batches intersecting `offsets`.
    mutating func removeRange(_ tp: TopicPartition, offsets: Range<Int64>) {
        recordRemoval(tp)
        guard let partitionSlot = partitionSlots[tp] else { return }
        let victims = overlapping(partitionSlot, baseOffset: offsets.lowerBound, lastOffset: offsets.upperBound - 1)
        for slot in victims where entries[Int(slot)].queue != .none { removeEntry(slot) }
        compactKeysIfNeeded(partitionSlot)
    }

    /// Drops all of the partition's batches and its slot.
    mutating func removePartition(_ tp: TopicPartition) {
        removalClock += 1
        lastAbsentRemoval = removalClock
        guard let partitionSlot = partitionSlots.removeValue(forKey: tp),
            let partition = partitions[Int(partitionSlot)]
        else { return }
        partitions[Int(partitionSlot)] = nil
        for slot in partition.byBase.values where entries[Int(slot)].queue != .none { removeEntry(slot) }
        freePartitionSlots.append(partitionSlot)
    }
}
