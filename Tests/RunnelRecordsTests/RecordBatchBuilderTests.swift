import NIOCore
import RunnelRecords
import TestSupport
import Testing

@Suite struct RecordBatchBuilderTests {
    @Test(arguments: CompressionCodec.allCases)
    func builtBatchesCarryTheirHeaderFieldsAndValidate(codec: CompressionCodec) throws {
        var builder = RecordBatchBuilder(
            baseOffset: 42, compression: codec, producerId: 7, producerEpoch: 3, baseSequence: 100,
            isTransactional: true, partitionLeaderEpoch: 5)
        for i in 0..<10 {
            builder.append(timestamp: 1000 + Int64(i * 3 % 7), key: [UInt8(i)], value: Array(repeating: 1, count: i))
        }
        let bytes = try builder.build()
        let batch = try RecordBatch(validating: bytes)
        let header = batch.header
        #expect(header.baseOffset == 42)
        #expect(header.sizeInBytes == bytes.readableBytes)
        #expect(header.partitionLeaderEpoch == 5)
        #expect(header.attributes.compression == codec)
        #expect(header.attributes.isTransactional && !header.attributes.isControl && !header.attributes.isLogAppendTime)
        #expect(header.lastOffsetDelta == 9 && header.recordsCount == 10)
        #expect(header.baseTimestamp == 1000, "the first record's timestamp")
        #expect(header.maxTimestamp == 1006)
        #expect(header.producerId == 7 && header.producerEpoch == 3 && header.baseSequence == 100)
        let records = try batch.records()
        #expect(records.map { $0.offset(in: header) } == Array(42..<52))
        let expectedTimestamps: [Int64] = (0..<10).map { (i: Int) -> Int64 in 1000 + Int64(i * 3 % 7) }
        let timestamps: [Int64] = records.map { $0.timestamp(in: header) }
        #expect(timestamps == expectedTimestamps)
        let expectedKeys: [[UInt8]?] = (0..<10).map { (i: Int) -> [UInt8]? in [UInt8(i)] }
        #expect(records.map(\.keyBytes) == expectedKeys)
    }

    @Test func logAppendTimeBatchesReportTheAppendTimeForEveryRecord() throws {
        var builder = RecordBatchBuilder(logAppendTime: 5555)
        builder.append(timestamp: 1, key: nil, value: [1])
        builder.append(timestamp: 2, key: nil, value: [2])
        let batch = try RecordBatch(validating: try builder.build())
        #expect(batch.header.attributes.isLogAppendTime)
        #expect(batch.header.maxTimestamp == 5555)
        #expect(try batch.records().map { $0.timestamp(in: batch.header) } == [5555, 5555])
    }

    @Test func deleteHorizonBecomesTheBaseTimestamp() throws {
        var builder = RecordBatchBuilder(deleteHorizonMs: 900)
        builder.append(timestamp: 1000, key: [1], value: nil)
        let batch = try RecordBatch(validating: try builder.build())
        #expect(batch.header.attributes.hasDeleteHorizon)
        #expect(batch.header.baseTimestamp == 900)
        let record = try #require(try batch.records().first)
        #expect(record.timestampDelta == 100)
        #expect(record.timestamp(in: batch.header) == 1000)
        #expect(record.isTombstone)
    }

    @Test func explicitOffsetDeltasKeepGaps() throws {
        var builder = RecordBatchBuilder(baseOffset: 10)
        builder.append(offsetDelta: 2, timestamp: 5, key: [1], value: [1])
        builder.append(offsetDelta: 7, timestamp: 6, key: ByteBuffer(bytes: [2]), value: nil)
        let batch = try RecordBatch(validating: try builder.build())
        #expect(batch.header.lastOffsetDelta == 7)
        #expect(batch.header.recordsCount == 2)
        #expect(try batch.records().map { $0.offset(in: batch.header) } == [12, 17])
    }

    @Test func decodedRecordsCanBeCopiedIntoANewBatch() throws {
        let (source, expected) = TestBatches.make(seed: 11, recordCount: 20, compression: .gzip)
        let batch = try RecordBatch(validating: source)
        var builder = RecordBatchBuilder(compression: .zstd)
        for record in try batch.records() {
            builder.append(record, timestamp: record.timestamp(in: batch.header))
        }
        #expect(try TestBatches.decode(try builder.build()) == expected)
    }

    @Test func buildingWithoutRecordsFails() {
        let builder = RecordBatchBuilder()
        #expect(throws: RecordsError.self) { try builder.build() }
    }

    @Test func emptyBatchesAre61BytesAndKeepTheirOffsets() throws {
        let bytes = RecordBatchBuilder.emptyBatch(
            baseOffset: 100, lastOffsetDelta: 4, maxTimestamp: 77, producerId: 9, producerEpoch: 1, baseSequence: 3)
        #expect(bytes.readableBytes == 61)
        let batch = try RecordBatch(validating: bytes)
        #expect(batch.header.recordsCount == 0)
        #expect(batch.header.baseTimestamp == -1)
        #expect(batch.header.nextOffset == 105)
        #expect(try batch.records().isEmpty)
    }

    @Test func endTransactionMarkersAre78ByteControlBatches() throws {
        let bytes = RecordBatchBuilder.endTransactionMarker(
            commit: true, producerId: 12, producerEpoch: 2, coordinatorEpoch: 0x0102_0304, timestamp: 999)
        #expect(bytes.readableBytes == 78)
        let batch = try RecordBatch(validating: bytes)
        #expect(batch.header.attributes.rawValue == 0x30)
        #expect(batch.header.baseSequence == -1)
        #expect(batch.header.baseTimestamp == 999 && batch.header.maxTimestamp == 999)
        let record = try #require(try batch.records().first)
        #expect(try ControlRecordKey(parsing: record.key).type == .commit)
        #expect(record.valueBytes == [0, 0, 1, 2, 3, 4])
    }

    @Test func updatingTheMaxTimestampNeedsANewCRC() throws {
        var bytes = TestBatches.simple(values: ["a", "b"])
        bytes.setInteger(Int64(123), at: RecordBatchHeader.maxTimestampOffset)
        #expect(throws: RecordsError.self) { try RecordBatch(validating: bytes) }
        bytes.updateBatchCRC(at: 0)
        #expect(try RecordBatch(validating: bytes).header.maxTimestamp == 123)
    }
}
