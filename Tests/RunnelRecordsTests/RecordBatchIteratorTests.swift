import NIOCore
import RunnelRecords
import TestSupport
import Testing

@Suite struct RecordBatchIteratorTests {
    @Test func iteratesConcatenatedBatchesWithoutCopying() throws {
        let (buffer, records) = TestBatches.sequence(seed: 5, batchSizes: [3, 1, 7], compression: .lz4, baseOffset: 50)
        var iterator = RecordBatchIterator(buffer, verifyCRC: true)
        let batches = try iterator.collect()
        #expect(batches.map(\.header.baseOffset) == [50, 53, 54])
        #expect(batches.map(\.header.recordsCount) == [3, 1, 7])
        #expect(iterator.trailingBytes == 0)
        #expect(iterator.consumedBytes == buffer.readableBytes)
        #expect(batches.map(\.bytes.readableBytes).reduce(0, +) == buffer.readableBytes)
        #expect(try TestBatches.decode(buffer) == records)
    }

    @Test func stopsCleanlyAtEveryPossiblePartialTrailingBatch() throws {
        let (buffer, _) = TestBatches.sequence(seed: 1, batchSizes: [2, 2], baseOffset: 0)
        let firstSize = try RecordBatchHeader(parsing: buffer, at: 0).sizeInBytes
        for cut in 0..<buffer.readableBytes {
            var truncated = buffer
            truncated.moveWriterIndex(to: cut)
            var iterator = RecordBatchIterator(truncated, verifyCRC: true)
            let batches = try iterator.collect()
            #expect(batches.count == (cut >= firstSize ? 1 : 0), "cut at \(cut)")
            #expect(iterator.position == (cut >= firstSize ? firstSize : 0))
            #expect(iterator.trailingBytes == cut - iterator.position)
        }
    }

    @Test func respectsTheBuffersReaderIndex() throws {
        var buffer = ByteBuffer(bytes: [1, 2, 3])
        buffer.writeImmutableBuffer(TestBatches.simple(values: ["x"]))
        buffer.moveReaderIndex(forwardBy: 3)
        var iterator = RecordBatchIterator(buffer, verifyCRC: true)
        let batch = try #require(try iterator.next())
        #expect(try batch.records().first?.valueBytes == Array("x".utf8))
        #expect(try iterator.next() == nil)
    }

    @Test func corruptionIsReportedAtTheOffendingBatch() throws {
        let (buffer, _) = TestBatches.sequence(seed: 2, batchSizes: [2, 2, 2])
        let firstSize = try RecordBatchHeader(parsing: buffer, at: 0).sizeInBytes
        var corrupt = buffer
        corrupt.setInteger(UInt8(0xFF), at: firstSize + 70)  // inside the second batch's records
        var checked = RecordBatchIterator(corrupt, verifyCRC: true)
        #expect(try checked.next() != nil)
        #expect(throws: RecordsError.self) { try checked.next() }
        #expect(checked.position == firstSize)
        var unchecked = RecordBatchIterator(corrupt, verifyCRC: false)
        #expect(try unchecked.collect().count == 3, "without CRC checks only the framing is read")

        var badMagic = buffer
        badMagic.setInteger(Int8(1), at: firstSize + RecordBatchHeader.magicOffset)
        var iterator = RecordBatchIterator(badMagic)
        _ = try iterator.next()
        #expect(throws: RecordsError.unsupportedMagic(1)) { try iterator.next() }

        var badLength = buffer
        badLength.setInteger(Int32(10), at: firstSize + RecordBatchHeader.batchLengthOffset)
        var lengthIterator = RecordBatchIterator(badLength)
        _ = try lengthIterator.next()
        #expect(throws: RecordsError.invalidBatchLength(10)) { try lengthIterator.next() }
    }
}
