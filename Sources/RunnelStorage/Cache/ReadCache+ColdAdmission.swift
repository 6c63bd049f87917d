import NIOCore
import RunnelRecords

/// One batch of a missed range, found by the read-back's header walk.
struct ColdBatch {
    var baseOffset: Int64
    var lastOffset: Int64
    /// Byte position in the segment file.
    var position: Int64
    /// Bytes of the whole batch (header included).
    var size: Int
}

extension ReadCache {
    /// At most this many batches of one missed range are considered (a fetch returns at most
    /// `partition.max.bytes`, so this only bounds pathological tiny batches).
    static let maxBatchesPerReadBack = 4_096

    /// Offers a range just served from disk for a miss (see the type's "Cold admission"): queued for the
    /// background read-back, or dropped when its queue is full (`stats.coldRejected`). Never blocks and never
    /// reads: safe on an event loop. The slice keeps its file open until the read-back ran.
    /// - Parameters:
    ///   - slice: whole batches of `tp`, as returned by `PartitionLog.read`.
    ///   - ticket: from the `lookup` that missed (taken under the log's lock with the snapshot `slice` is from).
    public func offerColdRead(_ tp: TopicPartition, slice: FileSlice, ticket: CacheTicket) {
        guard isEnabled, slice.length > 0 else { return }
        coldReads.submit { [self] in readBack(tp, slice: slice, ticket: ticket) }
    }

    /// Runs on the read-back queue: header walk, ghost gate, reads of the remembered batches, admission.
    func readBack(_ tp: TopicPartition, slice: FileSlice, ticket: CacheTicket) {
        let end = slice.position + Int64(slice.length)
        let scanner = BatchScanner(file: slice.file, limit: end)
        var found: [ColdBatch] = []
        var position = slice.position
        do {
            while found.count < Self.maxBatchesPerReadBack, let header = try scanner.header(at: position) {
                found.append(
                    ColdBatch(
                        baseOffset: header.baseOffset, lastOffset: header.lastOffset, position: position,
                        size: header.sizeInBytes))
                position += Int64(header.sizeInBytes)
            }
        } catch {
            state.withLock { $0.stats.coldRejected += 1 }
            return
        }
        guard let toRead = state.withLock({ $0.gateColdBatches(tp, found, ticket: ticket) }), !toRead.isEmpty else {
            return
        }
        // Each admitted batch is read straight into a buffer of its own: the one copy the cache makes.
        var copies: [CopiedBatch] = []
        copies.reserveCapacity(toRead.count)
        for batch in toRead {
            guard let bytes = try? slice.file.read(at: batch.position, length: batch.size),
                bytes.readableBytes == batch.size,
                let header = try? RecordBatchHeader(parsing: bytes, at: bytes.readerIndex),
                header.baseOffset == batch.baseOffset, header.lastOffset == batch.lastOffset
            else {
                state.withLock { $0.stats.coldRejected += 1 }
                return
            }
            copies.append(CopiedBatch(baseOffset: batch.baseOffset, lastOffset: batch.lastOffset, bytes: bytes))
        }
        let released = state.withLock { state in
            guard state.isCurrent(ticket, for: tp) else {
                state.stats.coldRejected += 1
                return state.takeReleased()
            }
            for copy in copies where state.admit(tp, copy, origin: .read, gated: true) {
                state.stats.coldAdmissions += 1
                state.stats.coldAdmittedBytes += copy.bytes?.storageCapacity ?? 0
            }
            return state.takeReleased()
        }
        _ = released  // Freed after the lock.
    }
}

extension ReadCache.State {
    /// The ghost gate for a missed range: batches already cached are skipped; a batch the ghost remembers is
    /// taken out of it and returned (to be read back and admitted on probation); any other is remembered in the
    /// ghost (`stats.coldRemembered`) and not read.
    /// - Returns: nil (counted in `coldRejected`) when the partition's cache was invalidated after `ticket`.
    mutating func gateColdBatches(_ tp: TopicPartition, _ batches: [ColdBatch], ticket: CacheTicket) -> [ColdBatch]? {
        guard isCurrent(ticket, for: tp) else {
            stats.coldRejected += 1
            return nil
        }
        let slot = Int(partitionSlot(for: tp))
        guard let uid = partitions[slot]?.uid else { return [] }
        var admitted: [ColdBatch] = []
        for batch in batches {
            if let existing = partitions[slot]?.byBase[batch.baseOffset],
                entries[Int(existing)].lastOffset == batch.lastOffset
            {
                continue
            }
            let key = GhostKey(partitionUID: uid, baseOffset: batch.baseOffset)
            if ghost.remove(key) {
                admitted.append(batch)
            } else {
                // Remembered at the size the batch would be charged (its allocation, a power of two).
                ghost.add(key, bytes: Self.allocationSize(batch.size))
                stats.coldRemembered += 1
            }
        }
        return admitted
    }

    /// The capacity NIO allocates for `size` bytes: the next power of two (what the cache would charge).
    static func allocationSize(_ size: Int) -> Int {
        guard size > 1 else { return max(size, 1) }
        let bits = Int.bitWidth - (size - 1).leadingZeroBitCount
        return bits >= Int.bitWidth - 1 ? size : 1 << bits
    }
}
