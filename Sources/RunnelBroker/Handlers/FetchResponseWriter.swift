import NIOCore
import RunnelProtocol
import RunnelStorage

/// One partition of a Fetch response, records as storage chunks (kept zero-copy).
struct FetchPartitionResult: Sendable {
    var partitionIndex: Int32
    var errorCode: Int16
    var highWatermark: Int64
    var lastStableOffset: Int64
    var logStartOffset: Int64
    var records: [ReadChunk]

    var recordBytes: Int { records.reduce(0) { $0 + $1.length } }

    static func error(_ partition: Int32, _ code: ErrorCode) -> FetchPartitionResult {
        FetchPartitionResult(
            partitionIndex: partition, errorCode: code.rawValue, highWatermark: -1, lastStableOffset: -1,
            logStartOffset: -1, records: [])
    }
}

/// One topic of a Fetch response.
struct FetchTopicResult: Sendable {
    var name: String
    var partitions: [FetchPartitionResult]
}

/// Encodes a FetchResponse body (versions 4–12) with record bytes as separate parts, so segment-file ranges go
/// to the socket with sendfile instead of being copied.
///
/// The generated `FetchResponse` type copies records into its buffer; this writer follows the same schema
/// (`FetchResponse.json`) field by field for the versions Runnel advertises and emits the records of each
/// partition as `ResponsePart.file`/`.bytes` parts after their length prefix.
enum FetchResponseWriter {
    static let supportedVersions: ClosedRange<Int16> = 4...12

    /// The body parts (no response header).
    static func encode(
        version: Int16, throttleTimeMs: Int32 = 0, errorCode: Int16 = 0, sessionId: Int32 = 0,
        topics: [FetchTopicResult]
    ) -> [ResponsePart] {
        precondition(supportedVersions.contains(version), "Fetch v\(version) is not encoded by FetchResponseWriter")
        let flexible = version >= 12
        var parts: [ResponsePart] = []
        var writer = MessageWriter()
        writer.writeInt32(throttleTimeMs)  // v1+
        if version >= 7 {
            writer.writeInt16(errorCode)
            writer.writeInt32(sessionId)
        }
        writer.writeArrayCount(topics.count, compact: flexible)
        for topic in topics {
            writer.writeString(topic.name, compact: flexible)
            writer.writeArrayCount(topic.partitions.count, compact: flexible)
            for partition in topic.partitions {
                writer.writeInt32(partition.partitionIndex)
                writer.writeInt16(partition.errorCode)
                writer.writeInt64(partition.highWatermark)
                writer.writeInt64(partition.lastStableOffset)  // v4+
                if version >= 5 { writer.writeInt64(partition.logStartOffset) }
                writer.writeArrayCount(nil, compact: flexible)  // aborted_transactions: null (no transactions)
                if version >= 11 { writer.writeInt32(-1) }  // preferred_read_replica
                let length = partition.recordBytes
                if flexible {
                    writer.writeUnsignedVarint(UInt32(clamping: length + 1))
                } else {
                    writer.writeInt32(Int32(clamping: length))  // length <= fetch.max.bytes < 2 GiB
                }
                if length > 0 {
                    parts.append(.bytes(writer.buffer))
                    for chunk in partition.records {
                        switch chunk {
                        case let .memory(buffer): parts.append(.bytes(buffer))
                        case let .file(slice): parts.append(.file(slice))
                        }
                    }
                    writer = MessageWriter()
                }
                if flexible { writer.writeTaggedFields([]) }  // partition tags
            }
            if flexible { writer.writeTaggedFields([]) }  // topic tags
        }
        if flexible { writer.writeTaggedFields([]) }  // body tags
        parts.append(.bytes(writer.buffer))
        return parts.filter { $0.length > 0 }
    }
}
