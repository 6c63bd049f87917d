import Foundation
import PropertyBased
import Testing
@testable import RunnelStorage

@Suite struct OffsetIndexTests {
    @Test func emptyIndexLookupReturnsBaseOffsetAndPositionZero() throws {
        try TempDirectory.with { dir in
            let index = try OffsetIndex(path: dir.path + "/a.index", baseOffset: 100, maxIndexBytes: 80)
            #expect(index.entries == 0)
            #expect(index.maxEntries == 10)
            #expect(index.lookup(5) == (100, 0))
            #expect(index.lookup(1_000) == (100, 0))
        }
    }

    @Test func lookupFindsLargestEntryAtOrBelowTarget() throws {
        try TempDirectory.with { dir in
            let index = try OffsetIndex(path: dir.path + "/a.index", baseOffset: 100, maxIndexBytes: 80)
            index.append(offset: 110, position: 500)
            index.append(offset: 120, position: 900)
            #expect(index.lookup(109) == (100, 0))
            #expect(index.lookup(110) == (110, 500))
            #expect(index.lookup(119) == (110, 500))
            #expect(index.lookup(500) == (120, 900))
        }
    }

    @Test func fullIndexReportsFullAndPreallocatesFile() throws {
        try TempDirectory.with { dir in
            let path = dir.path + "/a.index"
            let index = try OffsetIndex(path: path, baseOffset: 0, maxIndexBytes: 20)  // 2 entries
            #expect(try fileSize(path) == 16)
            index.append(offset: 1, position: 10)
            #expect(!index.isFull)
            index.append(offset: 2, position: 20)
            #expect(index.isFull)
        }
    }

    @Test func truncateDropsEntryEqualToOffsetAndLater() throws {
        try TempDirectory.with { dir in
            let index = try OffsetIndex(path: dir.path + "/a.index", baseOffset: 0, maxIndexBytes: 80)
            for i in 1...5 { index.append(offset: Int64(i * 10), position: Int64(i * 100)) }
            index.truncate(to: 30)
            #expect(index.entries == 2)
            #expect(index.lastEntry == (20, 200))
            index.truncate(to: 0)
            #expect(index.entries == 0)
        }
    }

    @Test func trimAndResizeKeepEntriesAndReopenReadsThem() throws {
        try TempDirectory.with { dir in
            let path = dir.path + "/00000000000000000000.index"
            do {
                let index = try OffsetIndex(path: path, baseOffset: 0, maxIndexBytes: 800)
                index.append(offset: 5, position: 50)
                index.append(offset: 9, position: 90)
                try index.trimToValidSize()
                #expect(try fileSize(path) == 16)
                try index.resize(to: 800)
                #expect(try fileSize(path) == 800)
                #expect(index.entry(at: 1) == (9, 90))
                try index.trimToValidSize()
                index.close()
            }
            let reopened = try OffsetIndex(path: path, baseOffset: 0, maxIndexBytes: 800)
            #expect(reopened.entries == 2)
            #expect(reopened.lookup(7) == (5, 50))
            // Byte-compatible with Kafka: big-endian relative offset then position.
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            #expect(bytes == [0, 0, 0, 5, 0, 0, 0, 50, 0, 0, 0, 9, 0, 0, 0, 90])
        }
    }

    @Test func lookupEqualsLinearScan() async {
        await propertyCheck(count: 60, input: Gen.int(in: 1...20).array(of: 0...60), Gen.int64(in: -5...1_500)) {
            gaps, target in
            TempDirectory.with { dir in
                guard let index = try? OffsetIndex(path: dir.path + "/p.index", baseOffset: 7, maxIndexBytes: 8 * 64)
                else { Issue.record("open failed"); return }
                var entries: [(Int64, Int64)] = []
                var offset: Int64 = 7
                for (i, gap) in gaps.enumerated() {
                    offset += Int64(gap)
                    index.append(offset: offset, position: Int64(i + 1) * 33)
                    entries.append((offset, Int64(i + 1) * 33))
                }
                let expected = entries.last(where: { $0.0 <= target }) ?? (7, 0)
                let actual = index.lookup(target)
                #expect(actual.offset == expected.0 && actual.position == expected.1)
            }
        }
    }
}

@Suite struct TimeIndexTests {
    @Test func emptyLookupReturnsMinusOneAndBaseOffset() throws {
        try TempDirectory.with { dir in
            let index = try TimeIndex(path: dir.path + "/a.timeindex", baseOffset: 50, maxIndexBytes: 120)
            #expect(index.lookup(10) == (-1, 50))
            #expect(index.lastEntry == (-1, 50))
        }
    }

    @Test func appendsOnlyIncreasingTimestampsAndLooksUp() throws {
        try TempDirectory.with { dir in
            let index = try TimeIndex(path: dir.path + "/a.timeindex", baseOffset: 0, maxIndexBytes: 120)
            index.maybeAppend(timestamp: 100, offset: 3)
            index.maybeAppend(timestamp: 100, offset: 5)  // not greater: skipped
            index.maybeAppend(timestamp: 200, offset: 9)
            #expect(index.entries == 2)
            #expect(index.lookup(99) == (-1, 0))
            #expect(index.lookup(150) == (100, 3))
            #expect(index.lookup(999) == (200, 9))
        }
    }

    @Test func fullOneEntryEarlyReservingTheFinalSlot() throws {
        try TempDirectory.with { dir in
            let path = dir.path + "/a.timeindex"
            let index = try TimeIndex(path: path, baseOffset: 0, maxIndexBytes: 40)  // 3 entries, 36 bytes
            #expect(try fileSize(path) == 36)
            index.maybeAppend(timestamp: 1, offset: 1)
            #expect(!index.isFull)
            index.maybeAppend(timestamp: 2, offset: 2)
            #expect(index.isFull)
            index.maybeAppend(timestamp: 3, offset: 3, skipFullCheck: true)
            #expect(index.entries == 3)
        }
    }

    @Test func truncateTrimAndReopen() throws {
        try TempDirectory.with { dir in
            let path = dir.path + "/a.timeindex"
            do {
                let index = try TimeIndex(path: path, baseOffset: 10, maxIndexBytes: 120)
                for i in 1...4 { index.maybeAppend(timestamp: Int64(i * 100), offset: Int64(10 + i * 2)) }
                index.truncate(to: 16)
                #expect(index.entries == 2)
                try index.trimToValidSize()
                #expect(try fileSize(path) == 24)
                index.close()
            }
            let reopened = try TimeIndex(path: path, baseOffset: 10, maxIndexBytes: 120)
            #expect(reopened.entries == 2)
            #expect(reopened.lastEntry == (200, 14))
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            #expect(Array(bytes[0..<12]) == [0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 2])
        }
    }

    @Test func lookupEqualsLinearScan() async {
        await propertyCheck(count: 60, input: Gen.int(in: 1...50).array(of: 0...30), Gen.int64(in: -10...1_600)) {
            steps, target in
            TempDirectory.with { dir in
                guard let index = try? TimeIndex(path: dir.path + "/p.timeindex", baseOffset: 0, maxIndexBytes: 12 * 40)
                else { Issue.record("open failed"); return }
                var entries: [(Int64, Int64)] = []
                var timestamp: Int64 = 0
                for (i, step) in steps.enumerated() {
                    timestamp += Int64(step)
                    index.maybeAppend(timestamp: timestamp, offset: Int64(i))
                    entries.append((timestamp, Int64(i)))
                }
                let expected = entries.last(where: { $0.0 <= target }) ?? (-1, 0)
                let actual = index.lookup(target)
                #expect(actual.timestamp == expected.0 && actual.offset == expected.1)
            }
        }
    }
}

func fileSize(_ path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.size] as? NSNumber)?.intValue ?? -1
}
