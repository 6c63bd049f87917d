import NIOCore
@testable import RunnelStorage

/// Test batches for the read cache: a valid batch v2 of `records` records based at `base`, each record holding
/// `valueSize` bytes of `fill`. Its size grows with `valueSize` (about 61 + records × (valueSize + 8) bytes).
func cacheBatch(_ base: Int64, records: Int = 1, valueSize: Int = 100, fill: UInt8 = 0x61) -> ByteBuffer {
    var batch = TestBatches.make(count: records, valueSize: valueSize, fill: fill)
    batch.setInteger(base, at: batch.readerIndex)  // baseOffset is outside the CRC: patch it like the log does.
    return batch
}

/// Bytes the cache charges for `batch`: the capacity of its own copy (NIO allocates powers of two).
func charge(of batch: ByteBuffer) -> Int {
    ByteBufferAllocator().buffer(capacity: batch.readableBytes).capacity
}

/// The last offset of a batch made by `cacheBatch`.
func lastOffset(of batch: ByteBuffer) -> Int64 {
    let base = batch.getInteger(at: batch.readerIndex, as: Int64.self) ?? 0
    let delta = batch.getInteger(at: batch.readerIndex + 23, as: Int32.self) ?? 0
    return base + Int64(delta)
}

extension ReadCache {
    /// Inserts one test batch, taking its offsets from its header.
    func insert(_ tp: TopicPartition, batch: ByteBuffer, origin: CacheInsertOrigin, ticket: CacheTicket? = nil) {
        let base = batch.getInteger(at: batch.readerIndex, as: Int64.self) ?? 0
        insert(tp, baseOffset: base, lastOffset: lastOffset(of: batch), bytes: batch, origin: origin, ticket: ticket)
    }

    /// Base offsets returned by a read (nil on a miss).
    func readBases(_ tp: TopicPartition, from offset: Int64, maxBytes: Int = .max) -> [Int64]? {
        read(tp, from: offset, maxBytes: maxBytes).map { hit in
            hit.chunks.map { $0.getInteger(at: $0.readerIndex, as: Int64.self) ?? -1 }
        }
    }
}
