import Dispatch
public import Logging
import Synchronization

/// Compacts the logs of a `LogManager` whose `cleanup.policy` contains `compact` (KAFKA-FORMATS §6): Kafka's
/// `LogCleaner` plus `LogCleanerManager`.
///
/// - `cleanOnce(now:)` runs one round on every eligible log, dirtiest first, on the calling thread (tests, tools).
/// - `clean(_:now:...)` cleans one partition until its cleanable section is done (the offline `runnel compact`).
/// - `start()`/`stop()` run `CleanerConfig.threads` background threads: each repeatedly takes the dirtiest
///   eligible log not being cleaned, cleans one round, and sleeps `backoffMs` when there is nothing to do.
///
/// First dirty offsets are kept in `<data dir>/cleaner-offset-checkpoint` (Kafka's text format, §5.9), written
/// atomically after every round. A partition whose data does not decode, or whose batches hold more keys than the
/// map, is skipped by `cleanOnce` and the background threads until restart (logged).
///
/// Thread-safety: all methods may be called from any thread. Bookkeeping (checkpoints, logs in progress, stats)
/// lives in a `Mutex` held only for short sections; cleaning itself takes each log's own lock only to snapshot and
/// to swap segments (never across I/O). Background threads are dedicated `DispatchQueue`s because cleaning is long,
/// blocking I/O that must stay off event loops and the cooperative pool. Call `stop()` before `LogManager.close()`.
public final class LogCleaner: Sendable {
    public let manager: LogManager
    public let config: CleanerConfig
    private let logger: Logger
    private let clock: @Sendable () -> Int64
    private let throttler: Throttler
    private let state: Mutex<State>
    /// Serializes checkpoint file writes (held across the write and fsync; nothing else takes it).
    private let checkpointWriter = Mutex<Void>(())
    /// Set by `stop()`; polled by cleanings in progress.
    private let stopping = Atomic<Bool>(false)
    /// Wakes idle background threads early (stop).
    private let wakeUp = DispatchSemaphore(value: 0)
    private let workers = DispatchGroup()

    private struct State {
        var checkpoints: [TopicPartition: Int64]
        var inProgress: Set<TopicPartition> = []
        var uncleanable: Set<TopicPartition> = []
        var stats = CleanerStats()
        var runningThreads = 0
    }

    static let checkpointName = "cleaner-offset-checkpoint"

    /// Reads `cleaner-offset-checkpoint` (an unreadable one is logged and ignored: cleaning restarts from the log
    /// start offsets, which is safe, only slower).
    public init(
        manager: LogManager, config: CleanerConfig = CleanerConfig(), logger: Logger,
        clock: @escaping @Sendable () -> Int64 = wallClockMs
    ) {
        self.manager = manager
        self.config = config
        self.logger = logger
        self.clock = clock
        self.throttler = Throttler(bytesPerSecond: config.maxIoBytesPerSecond)
        var checkpoints: [TopicPartition: Int64] = [:]
        do {
            checkpoints = try OffsetCheckpointFile.read(manager.directory + "/" + Self.checkpointName)
        } catch {
            logger.warning("ignoring unreadable cleaner checkpoint", metadata: ["error": "\(error)"])
        }
        self.state = Mutex(State(checkpoints: checkpoints))
    }

    // MARK: - Queries

    /// Cumulative counters.
    public var stats: CleanerStats { state.withLock { $0.stats } }

    /// The checkpointed first dirty offset of `tp`, if any.
    public func firstDirtyOffset(of tp: TopicPartition) -> Int64? {
        state.withLock { $0.checkpoints[tp] }
    }

    /// The cleaning candidates among compacted logs (or `only` those listed), dirtiest first; records the highest
    /// dirty ratio in `stats.maxDirtyRatio` when looking at all logs.
    public func candidates(now: Int64, only: Set<TopicPartition>? = nil) -> [CleaningCandidate] {
        let checkpoints = state.withLock { $0.checkpoints }
        var result: [CleaningCandidate] = []
        for log in manager.allLogs() {
            if let only {
                guard only.contains(log.topicPartition) else { continue }
            } else {
                guard log.config.cleanupPolicy.compacts else { continue }
            }
            guard let snapshot = try? log.cleaningSnapshot(checkpoint: checkpoints[log.topicPartition]) else { continue }
            result.append(CleaningCandidate(topicPartition: log.topicPartition, snapshot: snapshot, now: now))
        }
        result.sort { $0.dirtyRatio > $1.dirtyRatio }
        if only == nil {
            let maxRatio = result.first?.dirtyRatio ?? 0
            state.withLock { $0.stats.maxDirtyRatio = maxRatio }
        }
        return result
    }

    // MARK: - Cleaning on the caller's thread

    /// One cleaning round on every eligible compacted log, dirtiest first (logs being cleaned by a background
    /// thread, or marked uncleanable after a decode error, are skipped). Errors are logged and counted.
    public func cleanOnce(now: Int64) -> [CleaningReport] {
        let cleaner = makeCleaner()
        var reports: [CleaningReport] = []
        for candidate in candidates(now: now) where candidate.isEligible {
            guard claim(candidate.topicPartition) else { continue }
            defer { release(candidate.topicPartition) }
            guard let log = manager.log(for: candidate.topicPartition) else { continue }
            if let report = runRound(cleaner, log: log, now: now, options: CleaningOptions()) {
                reports.append(report)
            }
        }
        return reports
    }

    /// Cleans `tp` round after round until its whole cleanable section is clean (the offline tool). With
    /// `force`, the dirty ratio is ignored (anything cleanable is cleaned); a dry run does one round and writes
    /// nothing (its figures then cover the first round only: see `CleaningReport.mapFilled`).
    /// - Parameter maxRounds: a bound on rounds (each round makes progress, so this only guards against bugs).
    /// - Throws: `CleanerError` (the log stays intact), `.aborted` if the partition is being cleaned already.
    public func clean(
        _ tp: TopicPartition, now: Int64, force: Bool = true, dryRun: Bool = false, maxRounds: Int = 10_000,
        progress: ((CleaningProgress) -> Void)? = nil
    ) throws(CleanerError) -> [CleaningReport] {
        guard let log = manager.log(for: tp) else { throw .storage(.logClosed(tp)) }
        guard claim(tp, ignoreUncleanable: true) else { throw .aborted(tp, reason: "already being cleaned") }
        defer { release(tp) }
        let cleaner = makeCleaner()
        var reports: [CleaningReport] = []
        var options = CleaningOptions()
        options.dryRun = dryRun
        options.progress = progress
        options.shouldAbort = { [self] in stopping.load(ordering: .relaxed) }
        for _ in 0..<maxRounds {
            let checkpoint = state.withLock { $0.checkpoints[tp] }
            let snapshot: CleaningSnapshot
            do { snapshot = try log.cleaningSnapshot(checkpoint: checkpoint) } catch { throw .storage(error) }
            let candidate = CleaningCandidate(topicPartition: tp, snapshot: snapshot, now: now)
            guard candidate.hasCleanableSection, force || candidate.isEligible || !reports.isEmpty else { break }
            let report = try cleaner.clean(log, checkpoint: checkpoint, now: now, options: options)
            reports.append(report)
            if !dryRun { try finish(report) }
            if dryRun || report.nextDirtyOffset <= report.firstDirtyOffset
                || report.nextDirtyOffset >= report.firstUncleanableOffset
            {
                break
            }
        }
        return reports
    }

    // MARK: - Background threads

    /// Starts `config.threads` background cleaner threads (no-op when `config.enabled` is false or already running).
    public func start() {
        guard config.enabled else { return }
        let count = state.withLock { state -> Int in
            guard state.runningThreads == 0 else { return 0 }
            state.runningThreads = max(1, config.threads)
            return state.runningThreads
        }
        guard count > 0 else { return }
        stopping.store(false, ordering: .relaxed)
        for index in 0..<count {
            let queue = DispatchQueue(label: "runnel.log-cleaner-\(index)", qos: .utility)
            queue.async(group: workers) { [self] in runLoop(thread: index) }
        }
        logger.info("log cleaner started", metadata: ["threads": "\(count)"])
    }

    /// Stops the background threads: cleanings in progress (also a concurrent `clean(_:)`) abort at their next chunk
    /// (their `.cleaned` output is removed; swapped groups stay). Blocks until every thread has exited. Idempotent;
    /// `start()` may be called again afterwards.
    public func stop() {
        let count = state.withLock { $0.runningThreads }
        guard count > 0 else { return }
        stopping.store(true, ordering: .relaxed)
        for _ in 0..<count { wakeUp.signal() }
        workers.wait()
        // Drain wake-ups left by exiting threads, then let foreground cleanings run again.
        while wakeUp.wait(timeout: .now()) == .success {}
        stopping.store(false, ordering: .relaxed)
        state.withLock { $0.runningThreads = 0 }
        logger.info("log cleaner stopped")
    }

    private func runLoop(thread: Int) {
        let cleaner = makeCleaner()
        var options = CleaningOptions()
        options.shouldAbort = { [self] in stopping.load(ordering: .relaxed) }
        while !stopping.load(ordering: .relaxed) {
            let now = clock()
            var worked = false
            if let candidate = candidates(now: now).first(where: { $0.isEligible && claim($0.topicPartition) }) {
                if let log = manager.log(for: candidate.topicPartition) {
                    worked = runRound(cleaner, log: log, now: now, options: options).map(\.didWork) ?? false
                }
                release(candidate.topicPartition)
            }
            if !worked && !stopping.load(ordering: .relaxed) {
                _ = wakeUp.wait(timeout: .now() + .milliseconds(Int(clamping: max(10, config.backoffMs))))
            }
        }
        // Pass the wake-up on in case another thread is still waiting.
        wakeUp.signal()
    }

    // MARK: - Private

    private func makeCleaner() -> Cleaner {
        Cleaner(
            mapMemoryBytes: config.dedupeBufferBytesPerThread, loadFactor: config.effectiveLoadFactor,
            ioBufferBytes: config.ioBufferBytesPerThread, throttler: throttler.isActive ? throttler : nil,
            logger: logger)
    }

    /// Marks `tp` in progress; false if it already is (or is marked uncleanable).
    private func claim(_ tp: TopicPartition, ignoreUncleanable: Bool = false) -> Bool {
        state.withLock { state in
            guard !state.inProgress.contains(tp), ignoreUncleanable || !state.uncleanable.contains(tp) else {
                return false
            }
            state.inProgress.insert(tp)
            return true
        }
    }

    private func release(_ tp: TopicPartition) {
        _ = state.withLock { $0.inProgress.remove(tp) }
    }

    /// One round with error handling: corrupt data marks the partition uncleanable; other errors are logged.
    private func runRound(_ cleaner: Cleaner, log: PartitionLog, now: Int64, options: CleaningOptions)
        -> CleaningReport?
    {
        let tp = log.topicPartition
        let checkpoint = state.withLock { $0.checkpoints[tp] }
        do {
            let report = try cleaner.clean(log, checkpoint: checkpoint, now: now, options: options)
            try finish(report)
            return report
        } catch {
            state.withLock { state in
                state.stats.failures += 1
                switch error {
                case .corruptBatch, .offsetMapTooSmall: state.uncleanable.insert(tp)
                case .storage, .aborted: break
                }
            }
            switch error {
            case .aborted: logger.info("cleaning aborted", metadata: ["partition": "\(tp)", "reason": "\(error)"])
            default: logger.error("cleaning failed", metadata: ["partition": "\(tp)", "error": "\(error)"])
            }
            return nil
        }
    }

    /// Records a finished round: stats, the new first dirty offset, and the checkpoint file.
    private func finish(_ report: CleaningReport) throws(CleanerError) {
        guard !report.dryRun else { return }
        let entries = state.withLock { state -> [TopicPartition: Int64] in
            state.stats.record(report)
            state.checkpoints[report.topicPartition] = report.nextDirtyOffset
            return state.checkpoints
        }
        do { try writeCheckpoint(entries) } catch { throw .storage(error) }
    }

    /// Writes the checkpoint file with the entries of logs that still exist.
    private func writeCheckpoint(_ entries: [TopicPartition: Int64]) throws(StorageError) {
        let existing = Set(manager.allLogs().map(\.topicPartition))
        let kept = entries.filter { existing.contains($0.key) }
        let path = manager.directory + "/" + Self.checkpointName
        try checkpointWriter.withLock { (_) throws(StorageError) in
            try OffsetCheckpointFile.write(kept, to: path)
        }
    }
}
