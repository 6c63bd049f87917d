import Foundation
import Testing
@testable import RunnelStorage

/// The loader completes or rolls back a cleaner swap interrupted at any step (KAFKA-FORMATS §5.12, §6.6). Each case
/// builds the directory a crash would leave: the original segments (from a log before cleaning) plus the cleaned
/// segment's files (from the same log after cleaning) under the suffixes of that step.
@Suite struct CompactionSwapRecoveryTests {
    /// A log of many small segments (one cleaning group) and its cleaned form, both closed cleanly.
    func makeOriginalAndCleaned() throws -> (original: TempDirectory, cleaned: TempDirectory, activeBase: Int64) {
        var config = compactConfig(segmentBytes: 1 << 20)
        config.segmentIndexBytes = 1 << 16
        let original = TempDirectory("swap-original")
        do {
            let manager = try openManager(original, config: config)
            let log = try manager.getOrCreateLog(orders0, config: config)
            for version in 0..<6 {
                for key in 0..<4 { _ = try log.append(TestBatches.make([keyed("k\(key)", "v\(version)")]), now: 0) }
                try log.roll()
            }
            try manager.close()
        }
        let cleaned = TempDirectory("swap-cleaned")
        try FileManager.default.removeItem(atPath: cleaned.path)
        try FileManager.default.copyItem(atPath: original.path, toPath: cleaned.path)
        let manager = try openManager(cleaned, config: config)
        let log = try #require(manager.log(for: orders0))
        let activeBase = try #require(log.segmentBaseOffsets.last)
        let cleaner = LogCleaner(manager: manager, config: smallCleanerConfig(), logger: CapturedLogs().logger)
        let report = try #require(cleaner.cleanOnce(now: 0).first)
        #expect(report.segmentsAfter == 1 && report.segmentsBefore == 6)
        try manager.close()
        return (original, cleaned, activeBase)
    }

    enum Step: String, CaseIterable {
        case writingCleaned, renamingCleanedToSwap, swapComplete, oldPartlyDeleted, renamingSwapToFinal
    }

    @Test(arguments: Step.allCases)
    func interruptedSwapIsRolledBackOrCompleted(step: Step) throws {
        let (original, cleaned, activeBase) = try makeOriginalAndCleaned()
        defer {
            original.remove()
            cleaned.remove()
        }
        let config = compactConfig(segmentBytes: 1 << 20)
        let expectedOld = try records(in: original, config: config)
        let expectedNew = try records(in: cleaned, config: config)
        #expect(expectedOld != expectedNew)

        let partition = original.path + "/orders-0/"
        let source = cleaned.path + "/orders-0/"
        let zero = FileNames.prefix(0)
        let fm = FileManager.default
        func put(_ suffix: String, as target: String) throws {
            try fm.copyItem(atPath: source + zero + suffix, toPath: partition + zero + target)
        }
        let oldBases = try fm.contentsOfDirectory(atPath: partition)
            .filter { $0.hasSuffix(".log") }.compactMap { FileNames.offset(ofFileName: $0) }.filter { $0 < activeBase }.sorted()
        func deleteOld(_ bases: ArraySlice<Int64>, rename: Bool) throws {
            for base in bases {
                for suffix in [".log", ".index", ".timeindex"] {
                    let path = partition + FileNames.prefix(base) + suffix
                    guard fm.fileExists(atPath: path) else { continue }
                    if rename { try fm.moveItem(atPath: path, toPath: path + ".deleted") } else { try fm.removeItem(atPath: path) }
                }
            }
        }
        let rolledBack: Bool
        switch step {
        case .writingCleaned:
            try put(".log", as: ".log.cleaned")
            try put(".index", as: ".index.cleaned")
            rolledBack = true
        case .renamingCleanedToSwap:
            try put(".log", as: ".log.swap")
            try put(".index", as: ".index.cleaned")
            try put(".timeindex", as: ".timeindex.cleaned")
            rolledBack = true
        case .swapComplete:
            for suffix in [".log", ".index", ".timeindex"] { try put(suffix, as: suffix + ".swap") }
            rolledBack = false
        case .oldPartlyDeleted:
            for suffix in [".log", ".index", ".timeindex"] { try put(suffix, as: suffix + ".swap") }
            try deleteOld(oldBases.prefix(2), rename: true)
            rolledBack = false
        case .renamingSwapToFinal:
            try deleteOld(oldBases[...], rename: false)
            try put(".log", as: ".log")
            try put(".index", as: ".index.swap")
            try put(".timeindex", as: ".timeindex.swap")
            rolledBack = false
        }
        let after = try records(in: original, config: config)
        #expect(after == (rolledBack ? expectedOld : expectedNew), "step \(step)")
        let left = try fm.contentsOfDirectory(atPath: partition)
        #expect(!left.contains { $0.hasSuffix(".cleaned") || $0.hasSuffix(".swap") || $0.hasSuffix(".deleted") })
    }

    /// Opens the directory (running the loader), reads every record, closes.
    func records(in dir: TempDirectory, config: LogConfig) throws -> [StoredRecord] {
        let manager = try openManager(dir, config: config)
        defer { try? manager.close() }
        return try readRecords(try #require(manager.log(for: orders0))).records
    }
}
