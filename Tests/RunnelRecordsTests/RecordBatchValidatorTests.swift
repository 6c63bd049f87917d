import NIOCore
import RunnelRecords
import TestSupport
import Testing

@Suite struct RecordBatchValidatorTests {
    static func batch(_ build: (inout RecordBatchBuilder) -> Void, builder: RecordBatchBuilder = RecordBatchBuilder())
        throws -> RecordBatch
    {
        var builder = builder
        build(&builder)
        return try RecordBatch(validating: try builder.build())
    }

    @Test func aWellFormedBatchPassesWithoutDecodingRecords() throws {
        let batch = try RecordBatch(validating: TestBatches.make(seed: 1, recordCount: 5, compression: .zstd).batch)
        let summary = try RecordBatchValidator.validateForProduce(batch)
        #expect(summary.recordsCount == 5)
        #expect(!summary.decodedRecords)
    }

    @Test func lastOffsetDeltaMustMatchTheRecordCount() throws {
        var builder = RecordBatchBuilder()
        builder.append(offsetDelta: 0, timestamp: 1, key: [1], value: [1])
        builder.append(offsetDelta: 5, timestamp: 1, key: [1], value: [1])
        let batch = try RecordBatch(validating: try builder.build())
        #expect(throws: RecordsError.countMismatch(declared: 2, found: 6)) {
            try RecordBatchValidator.validateForProduce(batch)
        }
    }

    @Test func emptyAndControlBatchesFromClientsAreRejected() throws {
        let empty = try RecordBatch(
            validating: RecordBatchBuilder.emptyBatch(baseOffset: 0, lastOffsetDelta: 0, maxTimestamp: -1))
        #expect(throws: RecordsError.self) { try RecordBatchValidator.validateForProduce(empty) }
        let marker = try RecordBatch(
            validating: RecordBatchBuilder.endTransactionMarker(
                commit: false, producerId: 1, producerEpoch: 0, coordinatorEpoch: 0, timestamp: 0))
        #expect(throws: RecordsError.invalidRecord("clients may not produce control batches")) {
            try RecordBatchValidator.validateForProduce(marker)
        }
    }

    @Test func aProducerIdNeedsABaseSequence() throws {
        let batch = try Self.batch({ $0.append(timestamp: 1, key: nil, value: [1]) },
            builder: RecordBatchBuilder(producerId: 4, producerEpoch: 0, baseSequence: -1))
        #expect(throws: RecordsError.self) { try RecordBatchValidator.validateForProduce(batch) }
    }

    @Test func logAppendTimeFromAClientIsAnInvalidTimestamp() throws {
        let batch = try Self.batch({ $0.append(timestamp: 1, key: nil, value: [1]) },
            builder: RecordBatchBuilder(logAppendTime: 10))
        #expect(throws: RecordsError.invalidTimestamp(recordIndex: nil, reason: "producers must not set the LOG_APPEND_TIME type")) {
            try RecordBatchValidator.validateForProduce(batch)
        }
    }

    @Test(arguments: CompressionCodec.allCases)
    func compactedTopicsRejectNullKeys(codec: CompressionCodec) throws {
        let batch = try Self.batch({
            $0.append(timestamp: 1, key: [1], value: [1])
            $0.append(timestamp: 1, key: nil, value: [2])
        }, builder: RecordBatchBuilder(compression: codec))
        #expect(throws: RecordsError.self) {
            try RecordBatchValidator.validateForProduce(batch, options: .init(requireKeys: true))
        }
        #expect(try RecordBatchValidator.validateForProduce(batch).recordsCount == 2)
    }

    @Test func timestampsOutsideTheWindowAreRejected() throws {
        let batch = try Self.batch {
            $0.append(timestamp: 1000, key: [1], value: [1])
            $0.append(timestamp: -1, key: [1], value: [1])
            $0.append(timestamp: 5000, key: [1], value: [1])
        }
        let ok = try RecordBatchValidator.validateForProduce(batch, options: .init(timestampBounds: 0...5000))
        #expect(ok.decodedRecords && ok.maxTimestamp == 5000 && ok.offsetDeltaOfMaxTimestamp == 2)
        #expect(throws: RecordsError.self) {
            try RecordBatchValidator.validateForProduce(batch, options: .init(timestampBounds: 0...4999))
        }
        do {
            _ = try RecordBatchValidator.validateForProduce(batch, options: .init(timestampBounds: 1001...6000))
            Issue.record("expected an invalid timestamp")
        } catch {
            guard case .invalidTimestamp(let index, _) = error else { Issue.record("got \(error)"); return }
            #expect(index == 0)
        }
    }

    @Test func verifyingRecordsCatchesAForgedRecordsCount() throws {
        // Claim 3 records (and lastOffsetDelta 2) while holding 2: header checks pass, decoding does not.
        var bytes = TestBatches.simple(values: ["a", "b"])
        bytes.setInteger(Int32(3), at: 57)
        bytes.setInteger(Int32(2), at: 23)
        bytes.updateBatchCRC(at: 0)
        let batch = try RecordBatch(validating: bytes)
        #expect(try RecordBatchValidator.validateForProduce(batch).recordsCount == 3)
        #expect(throws: RecordsError.countMismatch(declared: 3, found: 2)) {
            try RecordBatchValidator.validateForProduce(batch, options: .init(verifyRecords: true))
        }
    }

    @Test func decompressionIsBoundedDuringValidation() throws {
        let big = [UInt8](repeating: 7, count: 200_000)
        let batch = try Self.batch({ $0.append(timestamp: 1, key: [1], value: big) },
            builder: RecordBatchBuilder(compression: .gzip))
        #expect(throws: RecordsError.decompressedTooLarge(limit: 100_000)) {
            try RecordBatchValidator.validateForProduce(
                batch, options: .init(requireKeys: true, maxDecompressedBytes: 100_000))
        }
    }
}
