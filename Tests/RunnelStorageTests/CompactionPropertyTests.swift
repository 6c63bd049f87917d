import Foundation
import NIOCore
import PropertyBased
import RunnelRecords
import Testing
@testable import RunnelStorage

/// One record of a generated history, with the offset the log gave it.
struct HistoryRecord {
    var offset: Int64
    var key: [UInt8]?
    var value: [UInt8]?
}

@Suite struct CompactionPropertyTests {
    /// Random keyed histories (tombstones, keyless records, producers, several codecs, small segments, many rolls)
    /// are compacted to exactly the latest record of every key at its original offset; tombstones stay until
    /// their horizon and go after it; the log end offset never moves; offsets increase; each producer's last batch
    /// survives; the log reopens to the same content.
    @Test func compactionKeepsExactlyTheLatestRecordOfEveryKey() async {
        await propertyCheck(count: 30, input: Gen.int(in: 0...Int.max)) { seed in
            var rng = SplitMix(seed: seed)
            let clock = ManualClock(1_000_000)
            let retention: Int64 = 5_000
            var config = compactConfig(segmentBytes: Int.random(in: 600...3_000, using: &rng), deleteRetentionMs: retention)
            config.indexIntervalBytes = Int.random(in: 0...400, using: &rng)
            let slots = Bool.random(using: &rng) ? 10_000 : Int.random(in: 8...40, using: &rng)
            let dir = TempDirectory("compact-property")
            defer { dir.remove() }
            do {
                let manager = try openManager(dir, config: config, clock: clock)
                let log = try manager.getOrCreateLog(orders0, config: config)
                let cleaner = LogCleaner(manager: manager, config: smallCleanerConfig(slots: slots, ioBufferBytes: 4_096), logger: CapturedLogs().logger)
                var history: [HistoryRecord] = []
                var producerLast: [Int64: Int64] = [:]
                let keySpace = Int.random(in: 1...30, using: &rng)

                func appendRandom(_ count: Int, keyPrefix: String) throws {
                    for _ in 0..<count {
                        let size = Int.random(in: 1...4, using: &rng)
                        var records: [TestRecord] = []
                        for _ in 0..<size {
                            let key: [UInt8]? = Int.random(in: 0..<12, using: &rng) == 0
                                ? nil : Array("\(keyPrefix)\(Int.random(in: 0..<keySpace, using: &rng))".utf8)
                            let value: [UInt8]? = Int.random(in: 0..<5, using: &rng) == 0
                                ? nil : Array("v\(history.count)-\(records.count)".utf8)
                            records.append(TestRecord(key: key, value: value, timestamp: clock.read()))
                        }
                        let producer: Int64 = Int.random(in: 0..<4, using: &rng) == 0 ? Int64.random(in: 1...3, using: &rng) : -1
                        // Keyless records reach a compacted log only from before a policy change (client appends
                        // reject them), so they enter here by the broker-internal path.
                        let info = try log.append(
                            TestBatches.make(records, producerId: producer, baseSequence: producer >= 0 ? 0 : -1), now: clock.read(),
                            origin: .coordinator)
                        for (index, record) in records.enumerated() {
                            history.append(HistoryRecord(offset: info.firstOffset + Int64(index), key: record.key, value: record.value))
                        }
                        if producer >= 0 { producerLast[producer] = info.lastOffset }
                        if Int.random(in: 0..<15, using: &rng) == 0 { try log.roll() }
                        clock.advance(by: 1)
                    }
                }

                /// Expected content below `bound`: per key its latest record below `bound`, minus tombstones whose
                /// horizon passed; records at or above `bound` unchanged.
                func expected(bound: Int64, deadTombstoneKeys: Set<[UInt8]>) -> [String] {
                    var latest: [[UInt8]: HistoryRecord] = [:]
                    for record in history where record.offset < bound {
                        if let key = record.key { latest[key] = record }
                    }
                    var kept = latest.values.filter { !($0.value == nil && deadTombstoneKeys.contains($0.key ?? [])) }
                    kept += history.filter { $0.offset >= bound }
                    return kept.sorted { $0.offset < $1.offset }.map { render($0.offset, $0.key, $0.value) }
                }

                // Phase 1: history, then clean everything below the active segment.
                try appendRandom(Int.random(in: 10...60, using: &rng), keyPrefix: "k")
                let rollFirst = Bool.random(using: &rng)
                if rollFirst { try log.roll() }
                let end = log.logEndOffset
                let bound = try #require(log.segmentBaseOffsets.last)
                _ = try cleaner.clean(orders0, now: clock.read())
                var stored = try readRecords(log)
                #expect(log.logEndOffset == end)
                #expect(stored.records.map { render($0.offset, $0.key, $0.value) } == expected(bound: bound, deadTombstoneKeys: []))
                #expect(zip(stored.headers, stored.headers.dropFirst()).allSatisfy { $0.lastOffset < $1.baseOffset })
                for (producer, last) in producerLast where last < bound {
                    #expect(stored.headers.contains { $0.producerId == producer && $0.lastOffset == last },
                            "producer \(producer)'s last batch (lastOffset \(last)) must survive")
                }
                // Every tombstone kept below the bound now carries a delete horizon.
                let phaseOneTombstoneKeys = Set(stored.records.filter { $0.offset < bound && $0.value == nil }.compactMap(\.key))

                // Phase 2: more data under other keys, then clean after the horizon: phase-1 tombstones go.
                clock.advance(by: retention + 1)
                try appendRandom(Int.random(in: 1...10, using: &rng), keyPrefix: "z")
                try log.roll()
                let end2 = log.logEndOffset
                _ = try cleaner.clean(orders0, now: clock.read())
                stored = try readRecords(log)
                #expect(log.logEndOffset == end2)
                let deadKeys = phaseOneTombstoneKeys.filter { key in
                    // Only keys whose latest record overall is still that phase-1 tombstone.
                    history.last { $0.key == key }.map { $0.value == nil && $0.offset < bound } ?? false
                }
                #expect(stored.records.map { render($0.offset, $0.key, $0.value) }
                        == expected(bound: end2, deadTombstoneKeys: Set(deadKeys)))
                #expect(!stored.records.contains { $0.value == nil && $0.offset < bound })

                // Reopen (unclean: recovery re-validates every cleaned segment): same content.
                let before = stored.records
                try manager.close()
                try? FileManager.default.removeItem(atPath: dir.path + "/.kafka_cleanshutdown")
                let reopened = try openManager(dir, config: config, clock: clock)
                defer { try? reopened.close() }
                let again = try #require(reopened.log(for: orders0))
                #expect(try readRecords(again).records == before)
                #expect(again.loadSummary.bytesTruncated == 0)
            } catch {
                Issue.record("seed \(seed): \(error)")
            }
        }
    }
}

func render(_ offset: Int64, _ key: [UInt8]?, _ value: [UInt8]?) -> String {
    "\(offset):\(key.map { String(decoding: $0, as: UTF8.self) } ?? "-")=\(value.map { String(decoding: $0, as: UTF8.self) } ?? "null")"
}
