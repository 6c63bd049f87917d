/// A cached batch as the test hooks name it.
package struct ResidentBatch: Hashable, Sendable, CustomStringConvertible {
    package var topicPartition: TopicPartition
    package var baseOffset: Int64

    package init(_ topicPartition: TopicPartition, _ baseOffset: Int64) {
        self.topicPartition = topicPartition
        self.baseOffset = baseOffset
    }

    package var description: String { "\(topicPartition)@\(baseOffset)" }
}

extension ReadCache {
    /// The queues' contents in eviction order (oldest first): probation, then main. Test hook.
    package func residentBatches() -> (probation: [ResidentBatch], main: [ResidentBatch]) {
        state.withLock { state in
            func walk(_ queue: Queue) -> [ResidentBatch] {
                var result: [ResidentBatch] = []
                var slot = queue.oldest
                while slot >= 0 {
                    let entry = state.entries[Int(slot)]
                    if let tp = state.partitions[Int(entry.partitionSlot)]?.topicPartition {
                        result.append(ResidentBatch(tp, entry.baseOffset))
                    }
                    slot = entry.newer
                }
                return result
            }
            return (walk(state.probation), walk(state.main))
        }
    }

    /// Every violated invariant, described (empty when consistent). O(entries): for tests, not the hot path.
    /// Checks: the queues' byte and entry counts match their links; bytes ≤ maxBytes; every queued entry is
    /// indexed by its partition under its base offset and in one of its sorted key lists; every indexed slot is
    /// queued; sorted key lists strictly increase; a partition's batches do not overlap.
    package func invariantViolations() -> [String] {
        state.withLock { state in
            var problems: [String] = []
            var queuedSlots = Set<Int32>()
            for (name, queue, id) in [("probation", state.probation, QueueID.probation), ("main", state.main, .main)] {
                var bytes = 0
                var count = 0
                var slot = queue.oldest
                var previous: Int32 = -1
                while slot >= 0 {
                    let entry = state.entries[Int(slot)]
                    if entry.queue != id { problems.append("\(name): slot \(slot) says it is in \(entry.queue)") }
                    if entry.older != previous { problems.append("\(name): slot \(slot) has a broken back link") }
                    if entry.charge != entry.bytes.storageCapacity { problems.append("slot \(slot): charge != storage capacity") }
                    bytes += entry.charge
                    count += 1
                    queuedSlots.insert(slot)
                    previous = slot
                    slot = entry.newer
                    if count > state.entries.count {
                        problems.append("\(name): cycle")
                        break
                    }
                }
                if previous != queue.newest { problems.append("\(name): newest is not the last linked entry") }
                if bytes != queue.bytes { problems.append("\(name): bytes \(queue.bytes) but links hold \(bytes)") }
                if count != queue.count { problems.append("\(name): count \(queue.count) but links hold \(count)") }
            }
            if state.usedBytes > state.maxBytes {
                problems.append("over budget: \(state.usedBytes) > \(state.maxBytes)")
            }
            var indexed = 0
            for partition in state.partitions.compactMap({ $0 }) {
                if !partition.writtenThrough.isStrictlyAscending || !partition.readBack.isStrictlyAscending {
                    problems.append("\(partition.topicPartition): sorted keys out of order")
                }
                var ranges: [(Int64, Int64)] = []
                for (base, slot) in partition.byBase {
                    indexed += 1
                    let entry = state.entries[Int(slot)]
                    if !queuedSlots.contains(slot) { problems.append("\(partition.topicPartition)@\(base): not queued") }
                    if entry.baseOffset != base { problems.append("\(partition.topicPartition)@\(base): wrong slot") }
                    let keys = entry.isWrittenThrough ? partition.writtenThrough : partition.readBack
                    if keys.floor(base) != base { problems.append("\(partition.topicPartition)@\(base): not in keys") }
                    ranges.append((entry.baseOffset, entry.lastOffset))
                }
                ranges.sort { $0.0 < $1.0 }
                for index in ranges.indices.dropFirst() where ranges[index].0 <= ranges[index - 1].1 {
                    problems.append("\(partition.topicPartition): batches overlap at \(ranges[index].0)")
                }
            }
            if indexed != queuedSlots.count {
                problems.append("\(indexed) indexed batches but \(queuedSlots.count) queued")
            }
            return problems
        }
    }
}
