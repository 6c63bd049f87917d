import NIOCore
import RunnelProtocol
import RunnelRecords
import RunnelStorage

/// One key/value of `__consumer_offsets` (KAFKA-FORMATS §8.9); a nil value is a tombstone.
struct OffsetsTopicEntry: Sendable {
    var key: ByteBuffer
    var value: ByteBuffer?
}

/// One decoded record of `__consumer_offsets`.
enum OffsetsTopicRecord: Sendable {
    /// Key versions 0/1; `offset` nil = tombstone.
    case offsetCommit(group: String, topicPartition: TopicPartition, offset: CommittedOffset?)
    /// Key version 2; `value` nil = tombstone.
    case groupMetadata(group: String, value: GroupMetadataValue?)
}

/// Encodes and decodes the coordinator's records as Kafka writes them.
///
/// | record | key | value |
/// |---|---|---|
/// | offset commit | int16 1 ++ OffsetCommitKey v1 | int16 3 ++ OffsetCommitValue v3 (v1 if it has an expire time) |
/// | group metadata | int16 2 ++ GroupMetadataKey (group) | int16 3 ++ GroupMetadataValue v3 |
///
/// Key versions 3+ (KIP-848 and share groups) are skipped on replay.
enum OffsetsTopicRecords {
    static let offsetCommitKeyVersion: Int16 = 1
    static let groupMetadataKeyVersion: Int16 = 2
    static let groupMetadataValueVersion: Int16 = 3

    /// The entry recording `offset` for (group, partition); nil `offset` = tombstone.
    static func offsetCommit(group: String, topicPartition: TopicPartition, offset: CommittedOffset?)
        -> OffsetsTopicEntry
    {
        let key = OffsetCommitKey(group: group, topic: topicPartition.topic, partition: topicPartition.partition)
            .encodedWithVersionPrefix(version: offsetCommitKeyVersion)
        guard let offset else { return OffsetsTopicEntry(key: key, value: nil) }
        let value = OffsetCommitValue(
            offset: offset.offset, leaderEpoch: offset.leaderEpoch, metadata: offset.metadata,
            commitTimestamp: offset.commitTimestampMs, expireTimestamp: offset.expireTimestampMs ?? -1)
        // v1 is the only version with expire_timestamp; current writers otherwise use v3.
        let version: Int16 = offset.expireTimestampMs == nil ? 3 : 1
        return OffsetsTopicEntry(key: key, value: value.encodedWithVersionPrefix(version: version))
    }

    /// The entry recording a group's metadata; nil `value` = tombstone.
    static func groupMetadata(group: String, value: GroupMetadataValue?) -> OffsetsTopicEntry {
        let key = GroupMetadataKey(group: group).encodedWithVersionPrefix(version: groupMetadataKeyVersion)
        return OffsetsTopicEntry(
            key: key, value: value?.encodedWithVersionPrefix(version: groupMetadataValueVersion))
    }

    /// One uncompressed record batch v2 holding `entries`, each stamped `timestampMs`.
    /// - Throws: `RecordsError` from the builder.
    static func batch(_ entries: [OffsetsTopicEntry], timestampMs: Int64) throws(RecordsError) -> ByteBuffer {
        precondition(!entries.isEmpty, "a batch needs at least one record")
        var builder = RecordBatchBuilder(initialCapacity: 128 * entries.count)
        for entry in entries {
            builder.append(timestamp: timestampMs, key: entry.key, value: entry.value)
        }
        return try builder.build()
    }

    /// Decodes every record of the batches in `buffer`, skipping control batches and keys of other record types.
    /// - Parameter onSkipped: told about each record that could not be decoded (bad key or value bytes).
    /// - Throws: `RecordsError` when the batch framing itself is corrupt.
    static func decode(batches buffer: ByteBuffer, onSkipped: (String) -> Void) throws(RecordsError)
        -> [OffsetsTopicRecord]
    {
        var result: [OffsetsTopicRecord] = []
        var iterator = RecordBatchIterator(buffer, verifyCRC: true)
        while let batch = try iterator.next() {
            if batch.header.attributes.isControl { continue }
            for record in try batch.records() {
                guard let key = record.key else {
                    onSkipped("record without key at offset \(record.offset(in: batch.header))")
                    continue
                }
                do {
                    if let decoded = try decodeRecord(key: key, value: record.value) { result.append(decoded) }
                } catch {
                    onSkipped("undecodable record at offset \(record.offset(in: batch.header)): \(error)")
                }
            }
        }
        return result
    }

    /// Decodes one key/value; nil for record types the classic coordinator does not own.
    static func decodeRecord(key: ByteBuffer, value: ByteBuffer?) throws(ProtocolError) -> OffsetsTopicRecord? {
        guard let keyVersion = key.getInteger(at: key.readerIndex, as: Int16.self) else {
            throw .truncated(needed: 2, available: key.readableBytes)
        }
        switch keyVersion {
        case 0, 1:
            let decodedKey = try OffsetCommitKey.decodeVersionPrefixed(from: key).value
            let tp = TopicPartition(topic: decodedKey.topic, partition: decodedKey.partition)
            guard let value else { return .offsetCommit(group: decodedKey.group, topicPartition: tp, offset: nil) }
            let (version, decoded) = try OffsetCommitValue.decodeVersionPrefixed(from: value)
            let expire: Int64? = (version == 1 && decoded.expireTimestamp >= 0) ? decoded.expireTimestamp : nil
            let offset = CommittedOffset(
                offset: decoded.offset, leaderEpoch: decoded.leaderEpoch, metadata: decoded.metadata,
                commitTimestampMs: decoded.commitTimestamp, expireTimestampMs: expire)
            return .offsetCommit(group: decodedKey.group, topicPartition: tp, offset: offset)
        case 2:
            let decodedKey = try GroupMetadataKey.decodeVersionPrefixed(from: key).value
            guard let value else { return .groupMetadata(group: decodedKey.group, value: nil) }
            return .groupMetadata(
                group: decodedKey.group, value: try GroupMetadataValue.decodeVersionPrefixed(from: value).value)
        default:
            return nil
        }
    }
}
