extension PartitionLog {
    /// Whether `read(from: offset, ...)` would go to the segment files: `offset` is inside the log and the cache
    /// holds no batch containing it. A cheap peek (one lock each, a hash or binary-search lookup, no counters
    /// touched) for a caller choosing where to run the read: a disk read does an offset-index lookup and
    /// 61-byte header `pread`s, which belong on a thread pool rather than an event loop. Out-of-range and
    /// end-of-log offsets answer false (their reads are cheap errors or empty results). The answer may be stale
    /// by the time the read runs; it only picks a thread, never changes what the read returns.
    public func readWouldTouchDisk(from offset: Int64) -> Bool {
        state.withLock { state in
            guard !state.isClosed, offset >= state.logStartOffset, offset < state.logEndOffset else { return false }
            return !readCache.holdsBatch(topicPartition, containing: offset)
        }
    }
}
