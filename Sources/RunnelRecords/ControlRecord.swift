public import NIOCore

/// The type in a control record's key (KAFKA-FORMATS §2.8). Types 2–6 are KRaft-internal.
public enum ControlRecordType: Int16, Sendable, Hashable {
    case abort = 0
    case commit = 1
    case leaderChange = 2
    case snapshotHeader = 3
    case snapshotFooter = 4
    case kraftVersion = 5
    case kraftVoters = 6
}

/// The 4-byte key of a control record: `version int16` (0), `type int16`.
public struct ControlRecordKey: Sendable, Hashable {
    public var version: Int16
    /// The raw type; unknown types are kept (Kafka ignores them).
    public var rawType: Int16

    public init(version: Int16 = 0, type: ControlRecordType) {
        self.version = version
        self.rawType = type.rawValue
    }

    /// Parses a control record key; higher versions are read as version 0.
    /// - Throws: `.invalidRecord` for a null or short key or a negative version.
    public init(parsing key: ByteBuffer?) throws(RecordsError) {
        guard let key, let version = key.getInteger(at: key.readerIndex, as: Int16.self),
            let rawType = key.getInteger(at: key.readerIndex + 2, as: Int16.self)
        else { throw .invalidRecord("control record key must be at least 4 bytes") }
        guard version >= 0 else { throw .invalidRecord("control record key version \(version)") }
        self.version = version
        self.rawType = rawType
    }

    /// The known type, nil for types this code does not know.
    public var type: ControlRecordType? { ControlRecordType(rawValue: rawType) }

    /// The 4 key bytes.
    public var bytes: [UInt8] {
        [UInt8(truncatingIfNeeded: version >> 8), UInt8(truncatingIfNeeded: version),
         UInt8(truncatingIfNeeded: rawType >> 8), UInt8(truncatingIfNeeded: rawType)]
    }
}

extension RecordBatchBuilder {
    /// A transaction end marker (KAFKA-FORMATS §2.8): a 78-byte control batch (attributes 0x30) with one COMMIT or
    /// ABORT record whose value is `version int16 (0)`, `coordinatorEpoch int32`; baseSequence -1, one offset.
    /// - Parameter timestamp: marker time in ms, used as base and max timestamp.
    public static func endTransactionMarker(
        commit: Bool, producerId: Int64, producerEpoch: Int16, coordinatorEpoch: Int32, timestamp: Int64,
        baseOffset: Int64 = 0, partitionLeaderEpoch: Int32 = -1
    ) -> ByteBuffer {
        var builder = RecordBatchBuilder(
            baseOffset: baseOffset, producerId: producerId, producerEpoch: producerEpoch, baseSequence: -1,
            isTransactional: true, isControl: true, partitionLeaderEpoch: partitionLeaderEpoch, initialCapacity: 78)
        let key = ControlRecordKey(type: commit ? .commit : .abort).bytes
        let value: [UInt8] = [
            0, 0,
            UInt8(truncatingIfNeeded: coordinatorEpoch >> 24), UInt8(truncatingIfNeeded: coordinatorEpoch >> 16),
            UInt8(truncatingIfNeeded: coordinatorEpoch >> 8), UInt8(truncatingIfNeeded: coordinatorEpoch),
        ]
        builder.append(timestamp: timestamp, key: key, value: value)
        do {
            return try builder.build()
        } catch {
            // Unreachable: one record, no compression; build() fails only without records or when compressing.
            preconditionFailure("building an end-transaction marker failed: \(error)")
        }
    }
}
