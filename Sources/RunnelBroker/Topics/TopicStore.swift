import FoundationEssentials
public import RunnelProtocol
import Synchronization

/// The persistent table of topics (`<data dir>/__runnel_topics.json`).
///
/// Thread-safe. `state` (Mutex) guards the in-memory table; critical sections are short and never do I/O.
/// `writer` (a second Mutex) serialises file writes, which are rare admin operations: it is held across the
/// fsync so the file always ends at the newest generation, and nothing on the produce/fetch path takes it.
/// Persistence is crash-safe (tmp + fsync + rename + fsync dir) via `FileIO.writeAtomically`.
public final class TopicStore: Sendable {
    public static let fileName = "__runnel_topics.json"

    private struct State {
        var topics: [String: TopicMetadata]
        var generation: UInt64
    }

    private struct FileFormat: Codable {
        var version: Int
        var topics: [TopicMetadata]
    }

    public let path: String
    private let state: Mutex<State>
    private let writer = Mutex<UInt64>(0)  // last generation written

    /// Loads the table from `directory` (empty when the file does not exist).
    /// - Throws: `TopicError.corruptMetadataFile` when the file exists but cannot be parsed.
    public init(directory: String) throws(TopicError) {
        path = directory + "/" + Self.fileName
        var topics: [String: TopicMetadata] = [:]
        if FileIO.fileExists(path) {
            do {
                let bytes = try FileIO.readBytes(path: path)
                let file = try JSONDecoder().decode(FileFormat.self, from: Data(bytes))
                guard file.version == 1 else {
                    throw TopicError.corruptMetadataFile(path: path, reason: "unknown version \(file.version)")
                }
                for topic in file.topics {
                    guard topic.partitionCount >= 1, TopicName.validationError(topic.name) == nil else {
                        throw TopicError.corruptMetadataFile(path: path, reason: "bad entry for '\(topic.name)'")
                    }
                    topics[topic.name] = topic
                }
            } catch let error as TopicError {
                throw error
            } catch {
                throw .corruptMetadataFile(path: path, reason: "\(error)")
            }
        }
        state = Mutex(State(topics: topics, generation: 0))
    }

    public func topic(_ name: String) -> TopicMetadata? { state.withLock { $0.topics[name] } }

    /// All topics sorted by name.
    public func allTopics() -> [TopicMetadata] {
        state.withLock { Array($0.topics.values) }.sorted { $0.name < $1.name }
    }

    /// Topic with the given id, if any.
    public func topic(id: KafkaUUID) -> TopicMetadata? {
        state.withLock { $0.topics.values.first { $0.topicId == id } }
    }

    /// Adds a topic; validates its name and partition count (configs are validated by the caller).
    /// - Throws: `.invalidName`, `.alreadyExists`, `.invalidPartitions`, `.storage`.
    @discardableResult
    public func create(_ name: String, partitionCount: Int32, configs: [String: String], topicId: KafkaUUID? = nil)
        throws(TopicError) -> TopicMetadata
    {
        if let reason = TopicName.validationError(name) { throw .invalidName(name, reason: reason) }
        guard partitionCount >= 1 else {
            throw .invalidPartitions(name, reason: "number of partitions must be larger than 0")
        }
        let metadata = TopicMetadata(
            name: name, topicId: topicId ?? .random(), partitionCount: partitionCount, configs: configs)
        let result: Result<Void, TopicError> = state.withLock { state in
            if state.topics[name] != nil { return .failure(.alreadyExists(name)) }
            let unified = TopicName.unifiedForCollision(name)
            if TopicName.hasCollisionChars(name),
                let other = state.topics.keys.first(where: { TopicName.unifiedForCollision($0) == unified })
            {
                return .failure(
                    .invalidName(name, reason: "collides with existing topic '\(other)' ('.' and '_' are equivalent)"))
            }
            state.topics[name] = metadata
            state.generation += 1
            return .success(())
        }
        try result.get()
        try persist()
        return metadata
    }

    /// Replaces a topic's entry (partition count or configs changed).
    public func update(_ metadata: TopicMetadata) throws(TopicError) {
        let found = state.withLock { state -> Bool in
            guard state.topics[metadata.name] != nil else { return false }
            state.topics[metadata.name] = metadata
            state.generation += 1
            return true
        }
        guard found else { throw .unknownTopic(metadata.name) }
        try persist()
    }

    /// Removes a topic; returns its old entry.
    @discardableResult
    public func remove(_ name: String) throws(TopicError) -> TopicMetadata {
        let removed = state.withLock { state -> TopicMetadata? in
            guard let old = state.topics.removeValue(forKey: name) else { return nil }
            state.generation += 1
            return old
        }
        guard let removed else { throw .unknownTopic(name) }
        try persist()
        return removed
    }

    /// Writes the newest table if it is newer than what was last written.
    private func persist() throws(TopicError) {
        let result: Result<Void, TopicError> = writer.withLock { written in
            let (topics, generation) = state.withLock { (Array($0.topics.values), $0.generation) }
            guard generation > written else { return .success(()) }
            do {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                let data = try encoder.encode(FileFormat(version: 1, topics: topics.sorted { $0.name < $1.name }))
                try FileIO.writeAtomically(path: path, bytes: Array(data))
                written = generation
                return .success(())
            } catch {
                return .failure(.storage(path, reason: "\(error)"))
            }
        }
        try result.get()
    }
}
