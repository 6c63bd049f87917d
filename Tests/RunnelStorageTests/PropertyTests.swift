import Foundation
import NIOCore
import PropertyBased
import RunnelRecords
import Testing
@testable import RunnelStorage

/// SplitMix64: a small deterministic generator so one property seed replays a whole scenario.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: Int) { state = UInt64(bitPattern: Int64(seed)) }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// What the test appended: offsets and the CRC-covered bytes of each batch.
struct ExpectedBatch: Equatable {
    var baseOffset: Int64
    var lastOffset: Int64
    var payload: [UInt8]
}

/// Reads every batch of `log` (CRC-checked by `split`) as `ExpectedBatch`es.
func stored(_ log: PartitionLog) throws -> [ExpectedBatch] {
    var result: [ExpectedBatch] = []
    var next = log.logStartOffset
    while next < log.logEndOffset {
        let batches = try TestBatches.split(try log.read(from: next, maxBytes: 700).readAllBytes())
        guard let last = batches.last else { break }
        result += batches.map {
            ExpectedBatch(baseOffset: $0.header.baseOffset, lastOffset: $0.header.lastOffset, payload: payloadAfterHeaderPrefix($0.bytes))
        }
        next = last.header.nextOffset
    }
    return result
}

func randomBatch(_ rng: inout SplitMix, timestamp: Int64) -> ByteBuffer {
    let count = Int.random(in: 1...5, using: &rng)
    let records = (0..<count).map { i in
        TestRecord(
            key: Bool.random(using: &rng) ? nil : [UInt8.random(in: 0...255, using: &rng)],
            value: (0..<Int.random(in: 0...60, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) },
            timestamp: timestamp + Int64(i))
    }
    return TestBatches.make(records)
}

@Suite struct StoragePropertyTests {
    @Test func appendsRollsAndReopensGiveBackExactlyWhatWasAppended() async {
        await propertyCheck(count: 25, input: Gen.int(in: 0...Int.max)) { seed in
            var rng = SplitMix(seed: seed)
            var config = testConfig(
                segmentBytes: Int.random(in: 450...1_500, using: &rng), indexIntervalBytes: Int.random(in: 0...300, using: &rng),
                segmentIndexBytes: Int.random(in: 24...400, using: &rng))
            config.segmentMs = Int64.max
            TempDirectory.with("prop") { dir in
                do {
                    var manager: LogManager? = try openManager(dir, config: config)
                    var log = try #require(try manager?.getOrCreateLog(orders0, config: config))
                    var expected: [ExpectedBatch] = []
                    for step in 0..<Int.random(in: 10...70, using: &rng) {
                        switch Int.random(in: 0..<100, using: &rng) {
                        case 0..<80:
                            let batch = randomBatch(&rng, timestamp: Int64(step * 10))
                            let info = try log.append(batch, now: 1)
                            #expect(info.firstOffset == (expected.last?.lastOffset ?? -1) + 1)
                            expected.append(ExpectedBatch(baseOffset: info.firstOffset, lastOffset: info.lastOffset, payload: payloadAfterHeaderPrefix(batch)))
                        case 80..<88:
                            try log.roll()
                        case 88..<94:
                            try manager?.close()
                            manager = nil
                            manager = try openManager(dir, config: config)
                            log = try #require(manager?.log(for: orders0))
                            #expect(log.loadSummary.recoveryBytesScanned == 0)
                        default:
                            // Unclean: drop everything without closing (the page cache keeps the bytes).
                            manager?.waitForBackgroundFlushes()
                            manager = nil
                            manager = try openManager(dir, config: config)
                            log = try #require(manager?.log(for: orders0))
                        }
                        if step % 7 == 0 {
                            let target = Int64.random(in: 0...log.logEndOffset, using: &rng)
                            let result = try log.read(from: target, maxBytes: Int.random(in: 1...600, using: &rng))
                            let batches = try TestBatches.split(try result.readAllBytes())
                            if target == log.logEndOffset {
                                #expect(batches.isEmpty)
                            } else {
                                #expect(batches.first.map { $0.header.baseOffset <= target && $0.header.lastOffset >= target } == true)
                            }
                        }
                    }
                    #expect(try stored(log) == expected)
                    try manager?.close()
                    manager = nil
                    let reopened = try openManager(dir, config: config)
                    defer { try? reopened.close() }
                    #expect(try stored(try #require(reopened.log(for: orders0))) == expected)
                } catch {
                    Issue.record("seed \(seed): \(error)")
                }
            }
        }
    }

    @Test func damagedLastSegmentKeepsEveryBatchBeforeTheDamageAndNothingFromIt() async {
        await propertyCheck(count: 40, input: Gen.int(in: 0...Int.max)) { seed in
            var rng = SplitMix(seed: seed)
            let config = testConfig(segmentBytes: Int.random(in: 450...2_000, using: &rng), indexIntervalBytes: 100)
            TempDirectory.with("damage") { dir in
                do {
                    var expected: [ExpectedBatch] = []
                    var lastSegmentPath = ""
                    do {
                        let manager = try openManager(dir, config: config)
                        let log = try manager.getOrCreateLog(orders0, config: config)
                        for step in 0..<Int.random(in: 3...40, using: &rng) {
                            let batch = randomBatch(&rng, timestamp: Int64(step))
                            let info = try log.append(batch, now: 1)
                            expected.append(ExpectedBatch(baseOffset: info.firstOffset, lastOffset: info.lastOffset, payload: payloadAfterHeaderPrefix(batch)))
                        }
                        let lastBase = try #require(log.segmentBaseOffsets.last)
                        lastSegmentPath = dir.path + "/orders-0/" + FileNames.prefix(lastBase) + ".log"
                        if Bool.random(using: &rng) { try manager.close() } else { manager.waitForBackgroundFlushes() }
                    }
                    try? FileManager.default.removeItem(atPath: dir.path + "/.kafka_cleanshutdown")
                    // Without a recovery point the whole segment is CRC-checked; damage below a recovery point is
                    // only caught when it breaks the header chain (RecoveryPointTests cover that case).
                    try? FileManager.default.removeItem(atPath: dir.path + "/" + LogManager.recoveryPointCheckpointName)
                    var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: lastSegmentPath)))
                    guard !bytes.isEmpty else { return }
                    // Batch layout of the last segment: (start, size, baseOffset).
                    var layout: [(start: Int, size: Int, base: Int64)] = []
                    var position = 0
                    while position < bytes.count {
                        let buffer = ByteBuffer(bytes: bytes[position...])
                        let header = try RecordBatchHeader(parsing: buffer, at: 0)
                        layout.append((position, header.sizeInBytes, header.baseOffset))
                        position += header.sizeInBytes
                    }
                    let firstLost: Int64
                    if Bool.random(using: &rng) {
                        let cut = Int.random(in: 0..<bytes.count, using: &rng)
                        bytes.removeSubrange(cut...)
                        firstLost = layout.first { $0.start + $0.size > cut }?.base ?? Int64.max
                    } else {
                        let victim = layout[Int.random(in: 0..<layout.count, using: &rng)]
                        // Any byte the checks can see: length, magic, CRC and everything it covers.
                        var inBatch = Int.random(in: 8..<(victim.size - 4), using: &rng)
                        if inBatch >= 12 { inBatch += 4 }  // skip partitionLeaderEpoch, which nothing covers
                        bytes[victim.start + inBatch] ^= UInt8.random(in: 1...255, using: &rng)
                        firstLost = victim.base
                    }
                    try Data(bytes).write(to: URL(fileURLWithPath: lastSegmentPath))
                    let manager = try openManager(dir, config: config)
                    defer { try? manager.close() }
                    let log = try #require(manager.log(for: orders0))
                    let kept = expected.filter { $0.baseOffset < firstLost }
                    #expect(try stored(log) == kept, "seed \(seed)")
                    #expect(log.logEndOffset == (kept.last?.lastOffset ?? -1) + 1)
                    // The log accepts appends right after the cut.
                    #expect(try log.append(TestBatches.make(count: 1), now: 1).firstOffset == log.logEndOffset - 1)
                } catch {
                    Issue.record("seed \(seed): \(error)")
                }
            }
        }
    }
}
