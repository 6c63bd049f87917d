import Foundation
import NIOCore
import RunnelRecords

/// One record for `TestBatches.make`.
struct TestRecord: Sendable, Hashable {
    var key: [UInt8]?
    var value: [UInt8]?
    var timestamp: Int64
}

/// Builds valid uncompressed record batches v2 (baseOffset 0, as a producer sends them), independent of the
/// records module's builder so storage tests do not depend on it.
enum TestBatches {
    /// A batch of `records`; baseTimestamp = first record's timestamp, maxTimestamp = the largest.
    static func make(
        _ records: [TestRecord], baseOffset: Int64 = 0, producerId: Int64 = -1, baseSequence: Int32 = -1,
        attributes: Int16 = 0
    ) -> ByteBuffer {
        precondition(!records.isEmpty)
        let baseTimestamp = records[0].timestamp
        var body = ByteBufferAllocator().buffer(capacity: 64)
        for (index, record) in records.enumerated() {
            var inner = ByteBufferAllocator().buffer(capacity: 32)
            inner.writeInteger(Int8(0))
            writeVarint(&inner, record.timestamp - baseTimestamp)
            writeVarint(&inner, Int64(index))
            writeBytesField(&inner, record.key)
            writeBytesField(&inner, record.value)
            writeVarint(&inner, 0)
            writeVarint(&body, Int64(inner.readableBytes))
            body.writeBuffer(&inner)
        }
        let header = RecordBatchHeader(
            baseOffset: baseOffset, batchLength: Int32(RecordBatchHeader.size - 12 + body.readableBytes),
            partitionLeaderEpoch: -1, crc: 0, attributes: RecordBatchAttributes(rawValue: attributes),
            lastOffsetDelta: Int32(records.count - 1), baseTimestamp: baseTimestamp,
            maxTimestamp: records.map(\.timestamp).max() ?? baseTimestamp, producerId: producerId,
            producerEpoch: producerId >= 0 ? 0 : -1, baseSequence: baseSequence, recordsCount: Int32(records.count))
        var batch = ByteBufferAllocator().buffer(capacity: RecordBatchHeader.size + body.readableBytes)
        header.write(to: &batch)
        batch.writeBuffer(&body)
        recomputeCRC(&batch, at: batch.readerIndex)
        return batch
    }

    /// `count` records with `valueSize`-byte values and timestamps `timestamp`, `timestamp + 1`, ...
    static func make(count: Int, valueSize: Int = 10, timestamp: Int64 = 1_000, fill: UInt8 = 0x61) -> ByteBuffer {
        make((0..<count).map { TestRecord(key: nil, value: Array(repeating: fill, count: valueSize), timestamp: timestamp + Int64($0)) })
    }

    /// Recomputes the CRC-32C of the batch at `index`.
    static func recomputeCRC(_ batch: inout ByteBuffer, at index: Int) {
        let length = Int(batch.getInteger(at: index + 8, as: Int32.self) ?? 0) + 12
        let crc = CRC32C.checksum(of: batch, at: index + 21, length: length - 21) ?? 0
        batch.setInteger(crc, at: index + 17)
    }

    /// Splits a concatenation of batches into (baseOffset, bytes) and checks each CRC.
    static func split(_ buffer: ByteBuffer) throws -> [(header: RecordBatchHeader, bytes: ByteBuffer)] {
        var result: [(RecordBatchHeader, ByteBuffer)] = []
        var index = buffer.readerIndex
        while index < buffer.writerIndex {
            let header = try RecordBatchHeader.validated(in: buffer, at: index)
            result.append((header, buffer.getSlice(at: index, length: header.sizeInBytes) ?? ByteBuffer()))
            index += header.sizeInBytes
        }
        return result
    }

    private static func writeVarint(_ buffer: inout ByteBuffer, _ value: Int64) {
        var raw = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while raw >= 0x80 {
            buffer.writeInteger(UInt8(raw & 0x7F | 0x80))
            raw >>= 7
        }
        buffer.writeInteger(UInt8(raw))
    }

    private static func writeBytesField(_ buffer: inout ByteBuffer, _ bytes: [UInt8]?) {
        guard let bytes else { return writeVarint(&buffer, -1) }
        writeVarint(&buffer, Int64(bytes.count))
        buffer.writeBytes(bytes)
    }
}

/// The batch bytes at the storage's view: same bytes except baseOffset/epoch (which the log rewrites).
func payloadAfterHeaderPrefix(_ batch: ByteBuffer) -> [UInt8] {
    Array(batch.readableBytesView.dropFirst(16))
}
