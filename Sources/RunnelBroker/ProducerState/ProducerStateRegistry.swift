import Logging
import NIOCore
import RunnelRecords
import RunnelStorage
import Synchronization

/// The idempotent-producer state of every partition, with its snapshot files (§5.7).
///
/// Thread-safe (Mutex over the table; each `PartitionProducerState` has its own lock). Loading and snapshot
/// writes do file I/O: call them at startup/shutdown or from the thread pool.
final class ProducerStateRegistry: Sendable {
    /// Snapshots kept per partition (the newest ones).
    static let retainedSnapshots = 2
    /// Bytes read per step while replaying batch headers.
    static let replayChunkBytes = 1 << 20

    private let states = Mutex<[TopicPartition: PartitionProducerState]>([:])
    private let directory: String
    private let logger: Logger

    init(directory: String, logger: Logger) {
        self.directory = directory
        self.logger = logger
    }

    /// The state of `tp`, created empty on first use.
    func state(for tp: TopicPartition) -> PartitionProducerState {
        states.withLock { table in
            if let existing = table[tp] { return existing }
            let created = PartitionProducerState()
            table[tp] = created
            return created
        }
    }

    func remove(_ tp: TopicPartition) { _ = states.withLock { $0.removeValue(forKey: tp) } }

    /// Startup: loads the newest valid snapshot ≤ log end offset, then replays batch headers after it.
    func load(_ log: PartitionLog) {
        let tp = log.topicPartition
        let state = PartitionProducerState()
        let partitionDirectory = directory + "/" + tp.directoryName
        let logEnd = log.logEndOffset
        let snapshots = snapshotFiles(in: partitionDirectory).filter { $0.offset <= logEnd }
        for candidate in snapshots.reversed() {
            do {
                let bytes = try FileIO.readBytes(path: candidate.path)
                state.restore(try ProducerSnapshot(decoding: bytes, offset: candidate.offset))
                break
            } catch {
                logger.warning(
                    "ignoring unreadable producer snapshot", metadata: ["path": "\(candidate.path)", "error": "\(error)"])
            }
        }
        var offset = max(state.mapEndOffset, log.logStartOffset)
        var replayed = 0
        replay: while offset < logEnd {
            let result: LogReadResult
            do {
                result = try log.read(from: offset, maxBytes: Self.replayChunkBytes, minOneBatch: true)
            } catch {
                logger.warning("producer state replay stopped", metadata: ["partition": "\(tp)", "error": "\(error)"])
                break
            }
            guard !result.chunks.isEmpty else { break }
            let before = offset
            for chunk in result.chunks {
                let buffer: ByteBuffer
                switch chunk {
                case let .memory(bytes): buffer = bytes
                case let .file(slice):
                    do {
                        buffer = try slice.readBytes()
                    } catch {
                        logger.warning("producer state replay read failed", metadata: ["error": "\(error)"])
                        break replay
                    }
                }
                var index = buffer.readerIndex
                while index < buffer.writerIndex {
                    guard let header = try? RecordBatchHeader(parsing: buffer, at: index), header.sizeInBytes > 0 else {
                        break
                    }
                    if header.lastOffset >= offset {
                        state.replay(header)
                        replayed += 1
                        offset = header.nextOffset
                    }
                    index += header.sizeInBytes
                }
            }
            if offset == before { break }  // no progress: stop rather than loop
        }
        state.advanceMapEndOffset(to: logEnd)
        states.withLock { $0[tp] = state }
        if replayed > 0 || state.producerCount > 0 {
            logger.debug(
                "loaded producer state",
                metadata: ["partition": "\(tp)", "producers": "\(state.producerCount)", "replayed.batches": "\(replayed)"])
        }
    }

    /// Writes a snapshot for every partition whose state moved since its last one; prunes old snapshots.
    func writeSnapshots() {
        let all = states.withLock { Array($0) }
        for (tp, state) in all {
            guard let snapshot = state.snapshotIfChanged() else { continue }
            let partitionDirectory = directory + "/" + tp.directoryName
            guard FileIO.isDirectory(partitionDirectory) else { continue }
            let path = partitionDirectory + "/" + ProducerSnapshot.fileName(offset: snapshot.offset)
            do {
                try FileIO.writeAndSync(path: path, bytes: snapshot.encoded())
                state.markSnapshotWritten(at: snapshot.offset)
                let files = snapshotFiles(in: partitionDirectory)
                for old in files.dropLast(Self.retainedSnapshots) { try? FileIO.removeFile(old.path) }
            } catch {
                logger.warning("could not write producer snapshot", metadata: ["path": "\(path)", "error": "\(error)"])
            }
        }
    }

    /// Drops producers idle longer than `producer.id.expiration.ms`.
    func expire(now: Int64, expirationMs: Int64) {
        let all = states.withLock { Array($0.values) }
        for state in all { state.expire(now: now, expirationMs: expirationMs) }
    }

    /// Snapshot files in a partition directory, ascending by offset.
    private func snapshotFiles(in partitionDirectory: String) -> [(offset: Int64, path: String)] {
        guard let names = try? FileIO.listDirectory(partitionDirectory) else { return [] }
        return names.compactMap { name in
            ProducerSnapshot.offset(fromFileName: name).map { ($0, partitionDirectory + "/" + name) }
        }.sorted { $0.offset < $1.offset }
    }
}
