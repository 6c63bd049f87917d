import Dispatch
public import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Wall-clock time in ms since the epoch (`CLOCK_REALTIME`): the default clock of `LogManager`.
@Sendable public func wallClockMs() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
}

/// Owns a data directory (`log.dir`): its lock, checkpoints, clean-shutdown marker, `meta.properties`, and one
/// `PartitionLog` per `<topic>-<partition>` subdirectory (KAFKA-FORMATS §5.1, §5.9, §5.10).
///
/// Thread-safety: all methods may be called from any thread. The partition map lives in a `Mutex` (short critical
/// sections; directory creation/deletion happen under it so two callers cannot race on one name). Blocking
/// methods (`flushAll`, `close`, `writeCheckpoints`, init) must run off event loops.
public final class LogManager: Sendable {
    /// The data directory.
    public let directory: String
    /// `cluster.id` from `meta.properties` (generated on first start).
    public let clusterId: String
    /// `node.id` from `meta.properties` (1 unless the file says otherwise).
    public let nodeId: Int32
    /// Whether `.kafka_cleanshutdown` was present at open (otherwise logs above their recovery point were recovered).
    public let hadCleanShutdown: Bool
    public let defaultConfig: LogConfig
    /// The cache of record-batch bytes shared by every partition (`log.cache.max.bytes`; disabled when ≤ 0).
    public let readCache: ReadCache
    private let logger: Logger
    private let clock: @Sendable () -> Int64
    private let flusher: BackgroundFlusher
    private let state: Mutex<State>

    private struct State {
        var logs: [TopicPartition: PartitionLog] = [:]
        var lock: DirectoryLock?
        var isClosed = false
    }

    static let recoveryPointCheckpointName = "recovery-point-offset-checkpoint"
    static let logStartOffsetCheckpointName = "log-start-offset-checkpoint"
    static let cleanShutdownName = ".kafka_cleanshutdown"

    /// Opens (creating if needed) a data directory: takes the exclusive `.lock`, writes `meta.properties` if absent,
    /// notes and deletes `.kafka_cleanshutdown` (so a crash from now on counts as unclean), reads the checkpoints
    /// (a corrupt one is logged and ignored), removes `*-delete` directories left by topic deletion, and loads every
    /// partition directory in parallel, recovering them if the shutdown was unclean.
    /// - Parameter readCacheBytes: budget of the shared read cache in bytes (`log.cache.max.bytes`); 0 disables it.
    /// - Throws: `StorageError.directoryLocked(path:holderPid:)`, `.io`, `.corruptCheckpoint` (meta.properties).
    public init(
        directory: String, defaultConfig: LogConfig, logger: Logger,
        clock: @escaping @Sendable () -> Int64 = wallClockMs, readCacheBytes: Int = 256 << 20
    ) throws {
        self.directory = directory
        let readCache = ReadCache(maxBytes: readCacheBytes)
        self.readCache = readCache
        self.defaultConfig = defaultConfig
        self.logger = logger
        self.clock = clock
        self.flusher = BackgroundFlusher()
        try FileSystem.createDirectory(directory)
        let lock = try DirectoryLock(directory: directory)
        let meta = try MetaProperties.loadOrCreate(directory: directory)
        clusterId = meta.clusterId
        nodeId = meta.nodeId

        let markerPath = directory + "/" + Self.cleanShutdownName
        hadCleanShutdown = FileSystem.exists(markerPath)
        if hadCleanShutdown {
            try FileSystem.removeFile(markerPath)
            try FileSystem.syncDirectory(directory)
        }
        let recoveryPoints = Self.readCheckpoint(directory + "/" + Self.recoveryPointCheckpointName, logger: logger)
        let logStartOffsets = Self.readCheckpoint(directory + "/" + Self.logStartOffsetCheckpointName, logger: logger)

        var partitions: [(TopicPartition, String)] = []
        for name in try FileSystem.list(directory) {
            let path = directory + "/" + name
            guard FileSystem.isDirectory(path) else { continue }
            if name.hasSuffix("-delete") {
                logger.info("removing directory of a deleted partition", metadata: ["directory": "\(name)"])
                try FileSystem.removeTree(path)
                continue
            }
            guard let tp = TopicPartition(directoryName: name) else {
                logger.info("ignoring directory that is not a partition", metadata: ["directory": "\(name)"])
                continue
            }
            partitions.append((tp, path))
        }

        // Load partitions in parallel: recovery is I/O- and CRC-bound and partitions are independent.
        let results = Mutex<[TopicPartition: Result<PartitionLog, StorageError>]>([:])
        let now = clock()
        let flusher = self.flusher
        let clean = hadCleanShutdown
        let toLoad = partitions
        DispatchQueue.concurrentPerform(iterations: toLoad.count) { index in
            let (tp, path) = toLoad[index]
            let input = LogLoader.Input(
                directory: path, topicPartition: tp, config: defaultConfig, hadCleanShutdown: clean,
                recoveryPointCheckpoint: recoveryPoints[tp], logStartOffsetCheckpoint: logStartOffsets[tp], now: now,
                logger: logger)
            let result: Result<PartitionLog, StorageError>
            do throws(StorageError) {
                let loaded = try LogLoader.load(input)
                result = .success(
                    PartitionLog(
                        topicPartition: tp, directory: path, config: defaultConfig, loaded: loaded, flusher: flusher,
                        clock: clock, logger: logger, readCache: readCache))
            } catch {
                result = .failure(error)
            }
            results.withLock { $0[tp] = result }
        }
        var logs: [TopicPartition: PartitionLog] = [:]
        for (tp, result) in results.withLock({ $0 }) {
            switch result {
            case let .success(log): logs[tp] = log
            case let .failure(error):
                logger.error("failed to load partition", metadata: ["partition": "\(tp)", "error": "\(error)"])
                throw error
            }
        }
        logger.info(
            "opened data directory",
            metadata: ["directory": "\(directory)", "partitions": "\(logs.count)", "cleanShutdown": "\(clean)"])
        state = Mutex(State(logs: logs, lock: lock))
    }

    // MARK: - Partitions

    /// The log of `tp`, if it exists.
    public func log(for tp: TopicPartition) -> PartitionLog? {
        state.withLock { $0.logs[tp] }
    }

    /// Every log, sorted by partition.
    public func allLogs() -> [PartitionLog] {
        state.withLock { $0.logs.values.sorted { $0.topicPartition < $1.topicPartition } }
    }

    /// The existing log of `tp` (unchanged: use `updateConfig` to change it), or a new empty one with `config`.
    /// - Throws: `.io`, `.logClosed` after `close()`.
    public func getOrCreateLog(_ tp: TopicPartition, config: LogConfig) throws(StorageError) -> PartitionLog {
        try state.withLock { (state) throws(StorageError) -> PartitionLog in
            guard !state.isClosed else { throw .logClosed(tp) }
            if let existing = state.logs[tp] { return existing }
            let path = directory + "/" + tp.directoryName
            try FileSystem.createDirectory(path)
            let now = clock()
            let segment = try LogSegment.create(directory: path, baseOffset: 0, config: config, now: now)
            try FileSystem.syncDirectory(path)
            try FileSystem.syncDirectory(directory)
            var summary = LogLoadSummary()
            summary.hadCleanShutdown = true
            let log = PartitionLog(
                topicPartition: tp, directory: path, config: config,
                loaded: LoadedLog(segments: [segment], logStartOffset: 0, recoveryPoint: 0, summary: summary),
                flusher: flusher, clock: clock, logger: logger, readCache: readCache)
            state.logs[tp] = log
            logger.info("created log", metadata: ["partition": "\(tp)"])
            return log
        }
    }

    /// Deletes the log of `tp`: closes it, renames its directory to `<tp>.<uuid>-delete` (atomic, so a crash
    /// midway leaves a directory the next open removes), then removes it. A missing log is not an error.
    public func deleteLog(_ tp: TopicPartition) throws(StorageError) {
        try state.withLock { (state) throws(StorageError) in
            guard let log = state.logs.removeValue(forKey: tp) else { return }
            log.closeForDeletion()
            readCache.remove(tp)
            let uuid = MetaProperties.randomUuidString().filter { $0.isLetter || $0.isNumber }
            let maxTopicLength = max(1, 255 - ".\(uuid)-delete".count - "-\(tp.partition)".count)
            let doomed =
                directory + "/" + String(tp.topic.prefix(maxTopicLength)) + "-\(tp.partition).\(uuid)-delete"
            try FileSystem.rename(log.directory, to: doomed)
            try FileSystem.syncDirectory(directory)
            try FileSystem.removeTree(doomed)
            logger.info("deleted log", metadata: ["partition": "\(tp)"])
        }
    }

    // MARK: - Maintenance

    /// Writes `recovery-point-offset-checkpoint` (every log) and `log-start-offset-checkpoint` (logs whose start
    /// offset is above their first segment's base), each atomically.
    public func writeCheckpoints() throws {
        let logs = state.withLock { Array($0.logs.values) }
        var recoveryPoints: [TopicPartition: Int64] = [:]
        var startOffsets: [TopicPartition: Int64] = [:]
        for log in logs {
            recoveryPoints[log.topicPartition] = log.recoveryPoint
            let start = log.logStartOffset
            if start > log.firstSegmentBaseOffset { startOffsets[log.topicPartition] = start }
        }
        try OffsetCheckpointFile.write(recoveryPoints, to: directory + "/" + Self.recoveryPointCheckpointName)
        try OffsetCheckpointFile.write(startOffsets, to: directory + "/" + Self.logStartOffsetCheckpointName)
    }

    /// Flushes every log (blocking).
    public func flushAll() throws {
        for log in allLogs() { try log.flush() }
    }

    /// Applies retention to every log; errors are logged. Returns segments deleted.
    public func applyRetention(now: Int64) -> Int {
        var deleted = 0
        for log in allLogs() {
            do { deleted += try log.applyRetention(now: now) } catch {
                logger.error("retention failed", metadata: ["partition": "\(log.topicPartition)", "error": "\(error)"])
            }
        }
        return deleted
    }

    /// Blocks until the background flushes queued so far (segment rolls) are done.
    public func waitForBackgroundFlushes() {
        flusher.drain()
    }

    /// Clean shutdown: waits for background flushes, closes every log (final index entries, fsync), writes both
    /// checkpoints, writes `.kafka_cleanshutdown` (only if all of that succeeded), and releases the lock.
    /// Idempotent. On an error the marker is not written (the next open recovers) but the lock is still released.
    public func close() throws {
        let (logs, lock) = state.withLock { state -> ([PartitionLog], DirectoryLock?) in
            guard !state.isClosed else { return ([], nil) }
            state.isClosed = true
            let lock = state.lock
            state.lock = nil
            return (Array(state.logs.values), lock)
        }
        guard let lock else { return }
        defer { lock.release() }
        flusher.drain()
        for log in logs { try log.close() }
        try writeCheckpoints()
        try FileSystem.writeAtomically(
            Array("{\"version\":0,\"brokerEpoch\":0}".utf8), to: directory + "/" + Self.cleanShutdownName)
        logger.info("closed data directory cleanly", metadata: ["directory": "\(directory)"])
    }

    // MARK: - Private

    private static func readCheckpoint(_ path: String, logger: Logger) -> [TopicPartition: Int64] {
        do {
            return try OffsetCheckpointFile.read(path)
        } catch {
            logger.warning("ignoring unreadable checkpoint", metadata: ["path": "\(path)", "error": "\(error)"])
            return [:]
        }
    }
}
