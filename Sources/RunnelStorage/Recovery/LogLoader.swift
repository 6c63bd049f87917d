import Logging
import RunnelRecords

/// Opens a partition directory (KAFKA-FORMATS §5.12): temp-file sweep, interrupted swaps, segment loading, and —
/// only after an unclean shutdown — recovery of the segments from the recovery point on.
///
/// Runs before the `PartitionLog` exists, on one thread per partition; touches nothing shared.
enum LogLoader {
    struct Input {
        var directory: String
        var topicPartition: TopicPartition
        var config: LogConfig
        /// The data directory had `.kafka_cleanshutdown`.
        var hadCleanShutdown: Bool
        /// From `recovery-point-offset-checkpoint` (nil: absent, so recover from the start if unclean).
        var recoveryPointCheckpoint: Int64?
        /// From `log-start-offset-checkpoint`.
        var logStartOffsetCheckpoint: Int64?
        var now: Int64
        var logger: Logger
    }

    /// Loads (and if needed recovers) the log in `input.directory`, creating an empty segment when there is none.
    /// - Throws: `StorageError.io` only; corrupt data is cut and logged.
    static func load(_ input: Input) throws(StorageError) -> LoadedLog {
        let directory = input.directory
        var logger = input.logger
        logger[metadataKey: "partition"] = "\(input.topicPartition)"
        var summary = LogLoadSummary()
        summary.hadCleanShutdown = input.hadCleanShutdown

        try sweepTemporaryFiles(directory, logger: logger)
        try completeSwaps(directory, logger: logger)

        // Step 3: load segments in ascending order; drop indexes without a .log.
        let names = try FileSystem.list(directory)
        var bases: [Int64] = []
        var indexFiles: [(name: String, base: Int64)] = []
        for name in names {
            guard let base = FileNames.offset(ofFileName: name) else { continue }
            if name.hasSuffix(FileNames.logSuffix) && name.count == 20 + FileNames.logSuffix.count {
                bases.append(base)
            } else if name.hasSuffix(FileNames.indexSuffix) || name.hasSuffix(FileNames.timeIndexSuffix)
                || name.hasSuffix(FileNames.txnIndexSuffix)
            {
                indexFiles.append((name, base))
            }
        }
        bases.sort()
        let baseSet = Set(bases)
        for file in indexFiles where !baseSet.contains(file.base) {
            logger.info("deleting index without a segment", metadata: ["file": "\(file.name)"])
            try FileSystem.removeFile(directory + "/" + file.name)
        }

        var segments: [LogSegment] = []
        var needsRecovery: Set<Int> = []
        for (position, base) in bases.enumerated() {
            let opened = try LogSegment.open(directory: directory, baseOffset: base, config: input.config, now: input.now)
            if opened.indexMissing { needsRecovery.insert(position) }
            segments.append(opened.segment)
        }
        var recoveryPoint = input.recoveryPointCheckpoint ?? 0
        var firstToRecover = segments.count
        if !input.hadCleanShutdown, !segments.isEmpty {
            firstToRecover = segments.lastIndex(where: { $0.baseOffset <= recoveryPoint }) ?? 0
        }
        // nextOffset: the next segment's base for all but the last, a header scan for the last. Segments about to be
        // recovered are skipped: recovery recomputes everything.
        for index in segments.indices where !needsRecovery.contains(index) && index < firstToRecover {
            let segment = segments[index]
            do {
                try segment.offsetIndex.sanityCheck(logSize: segment.size)
                if index + 1 < segments.count {
                    segment.nextOffset = segments[index + 1].baseOffset
                } else {
                    try segment.loadNextOffset()
                }
                try segment.timeIndex.sanityCheck(nextOffset: segment.nextOffset)
            } catch {
                logger.warning("index failed its sanity check; rebuilding", metadata: ["error": "\(error)"])
                summary.indexesRebuilt += 1
                needsRecovery.insert(index)
            }
        }

        for index in needsRecovery { firstToRecover = min(firstToRecover, index) }

        // Step 4: recover from the recovery point on (plus segments whose index was missing or corrupt).
        var index = firstToRecover
        while index < segments.count {
            let segment = segments[index]
            let mustRecover = index >= firstToRecover && (!input.hadCleanShutdown || needsRecovery.contains(index))
            if mustRecover {
                // After an unclean stop, flushed batches below the recovery point are checked by header only.
                let outcome = try segment.recover(
                    maxIndexBytes: input.config.segmentIndexBytes,
                    recoveryPoint: input.hadCleanShutdown ? nil : input.recoveryPointCheckpoint)
                summary.segmentsRecovered += 1
                summary.recoveryBytesScanned += outcome.scannedBytes
                if index + 1 < segments.count { try segment.onBecomeInactive() }
                if outcome.truncatedBytes > 0 {
                    summary.bytesTruncated += outcome.truncatedBytes
                    let later = segments[(index + 1)...]
                    // A data-loss event an operator must see, hence warning despite the library-level default.
                    logger.warning(
                        "truncated corrupt or torn tail of segment",
                        metadata: [
                            "segment.baseOffset": "\(segment.baseOffset)", "validBytes": "\(outcome.validBytes)",
                            "truncatedBytes": "\(outcome.truncatedBytes)", "nextOffset": "\(segment.nextOffset)",
                            "reason": "\(outcome.stopReason ?? "unknown")",
                            "laterSegmentsDeleted": "\(later.map(\.baseOffset))",
                        ])
                    for doomed in later { try doomed.deleteFiles() }
                    summary.segmentsDeleted += later.count
                    segments.removeSubrange((index + 1)...)
                    break
                }
                // A later segment's base must continue this one (else its data is unreachable garbage).
                if index + 1 < segments.count, segments[index + 1].baseOffset < segment.nextOffset {
                    let later = segments[(index + 1)...]
                    logger.warning(
                        "deleting segments that overlap a recovered segment",
                        metadata: ["segments": "\(later.map(\.baseOffset))"])
                    for doomed in later { try doomed.deleteFiles() }
                    summary.segmentsDeleted += later.count
                    segments.removeSubrange((index + 1)...)
                    break
                }
            }
            index += 1
        }
        if summary.segmentsRecovered > 0 {
            logger.info(
                "recovered log",
                metadata: [
                    "segments": "\(summary.segmentsRecovered)", "bytesScanned": "\(summary.recoveryBytesScanned)",
                    "bytesTruncated": "\(summary.bytesTruncated)",
                ])
        }

        // Step 5: log start offset beyond the data → drop everything; no segment → an empty one.
        var logStartOffset = input.logStartOffsetCheckpoint ?? 0
        if let last = segments.last, last.nextOffset < logStartOffset {
            logger.info("all segments are below the log start offset; deleting them")
            for doomed in segments { try doomed.deleteFiles() }
            summary.segmentsDeleted += segments.count
            segments.removeAll()
        }
        if segments.isEmpty {
            segments.append(
                try LogSegment.create(
                    directory: directory, baseOffset: logStartOffset, config: input.config, now: input.now))
        }

        // Step 6: offsets, and the active segment's indexes grown back.
        let logEndOffset = segments[segments.count - 1].nextOffset
        recoveryPoint = input.hadCleanShutdown ? logEndOffset : min(recoveryPoint, logEndOffset)
        logStartOffset = min(max(logStartOffset, segments[0].baseOffset), logEndOffset)
        try segments[segments.count - 1].resizeIndexes(to: input.config.segmentIndexBytes)
        return LoadedLog(
            segments: segments, logStartOffset: logStartOffset, recoveryPoint: recoveryPoint, summary: summary)
    }

    // MARK: - Steps 1 and 2

    /// Deletes `*.deleted` and `*.cleaned` files, and `.swap` files left by an interrupted split (base offset ≥ the
    /// smallest `.cleaned` base offset).
    static func sweepTemporaryFiles(_ directory: String, logger: Logger) throws(StorageError) {
        let names = try FileSystem.list(directory)
        let cleaned = names.filter { $0.hasSuffix(FileNames.cleanedSuffix) }
        let minCleanedBase = cleaned.compactMap(FileNames.offset(ofFileName:)).min()
        for name in names where name.hasSuffix(FileNames.deletedSuffix) || name.hasSuffix(FileNames.cleanedSuffix) {
            try FileSystem.removeFile(directory + "/" + name)
        }
        if let minCleanedBase {
            for name in names where name.hasSuffix(FileNames.swapSuffix) {
                if let base = FileNames.offset(ofFileName: name), base >= minCleanedBase {
                    logger.info("deleting swap file of an interrupted split", metadata: ["file": "\(name)"])
                    try FileSystem.removeFile(directory + "/" + name)
                }
            }
        }
    }

    /// Completes swaps interrupted after the `.swap` files were complete: deletes the old segments they replace
    /// (base offsets in [min swap base, max swap next offset)), then strips `.swap` from the names.
    static func completeSwaps(_ directory: String, logger: Logger) throws(StorageError) {
        let names = try FileSystem.list(directory)
        let swaps = names.filter { $0.hasSuffix(FileNames.swapSuffix) }
        guard !swaps.isEmpty else { return }
        var minBase = Int64.max
        var maxNext = Int64.min
        for name in swaps where name.hasSuffix(FileNames.logSuffix + FileNames.swapSuffix) {
            guard let base = FileNames.offset(ofFileName: name) else { continue }
            let handle = try SegmentFileHandle.open(path: directory + "/" + name, create: false)
            let scanner = BatchScanner(file: handle, limit: try handle.size())
            var position: Int64 = 0
            var next = base
            while let header = try? scanner.header(at: position) {
                next = header.nextOffset
                position += Int64(header.sizeInBytes)
            }
            minBase = min(minBase, base)
            maxNext = max(maxNext, next)
        }
        if minBase < maxNext {
            for name in names where !name.hasSuffix(FileNames.swapSuffix) {
                guard let base = FileNames.offset(ofFileName: name), base >= minBase, base < maxNext else { continue }
                logger.info("deleting segment replaced by a swap", metadata: ["file": "\(name)"])
                try FileSystem.removeFile(directory + "/" + name)
            }
        }
        for name in swaps {
            let target = String(name.dropLast(FileNames.swapSuffix.count))
            try FileSystem.rename(directory + "/" + name, to: directory + "/" + target)
        }
    }
}
