import Synchronization

/// Hands out unique producer ids (InitProducerId for idempotent producers), never reusing one after a restart.
///
/// Like Kafka's controller-allocated blocks: the end of the current block (`nextBlockStart`) is persisted before
/// any id of the block is handed out, so a crash at worst skips the rest of a block. File:
/// `<data dir>/__runnel_producer_ids` containing `next.block.start=<n>`.
/// Thread-safe: a Mutex guards the counter and is held across the (rare, once per 1000 ids) block write, so no
/// id escapes before its block is durable.
public final class ProducerIdAllocator: Sendable {
    public static let fileName = "__runnel_producer_ids"
    public static let blockSize: Int64 = 1000

    private struct State {
        var next: Int64
        var blockEnd: Int64
    }

    public let path: String
    private let state: Mutex<State>

    /// Loads the persisted block start (0 when absent).
    /// - Throws: `FileIOError` when the file exists but cannot be read, `BrokerConfigurationError` when malformed.
    public init(directory: String) throws {
        path = directory + "/" + Self.fileName
        var start: Int64 = 0
        if FileIO.fileExists(path) {
            let text = try FileIO.readText(path: path)
            let properties = try PropertiesFile(parsing: text).dictionary
            guard let value = properties["next.block.start"].flatMap({ Int64($0.trimmingBlanks) }), value >= 0 else {
                throw BrokerConfigurationError.invalidValue(key: path, value: text, reason: "no next.block.start")
            }
            start = value
        }
        state = Mutex(State(next: start, blockEnd: start))
    }

    /// A new producer id.
    /// - Throws: `FileIOError` when the next block cannot be persisted.
    public func allocate() throws(FileIOError) -> Int64 {
        let result: Result<Int64, FileIOError> = state.withLock { state in
            if state.next >= state.blockEnd {
                let newEnd = state.blockEnd + Self.blockSize
                do throws(FileIOError) {
                    try FileIO.writeAtomically(path: path, bytes: Array("next.block.start=\(newEnd)\n".utf8))
                } catch {
                    return .failure(error)
                }
                state.blockEnd = newEnd
            }
            let id = state.next
            state.next += 1
            return .success(id)
        }
        return try result.get()
    }
}
