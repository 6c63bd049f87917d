import NIOCore
import RunnelProtocol

/// Counts the error codes of responses that reach the connection already encoded (ListOffsets and the group
/// APIs, whose handlers are built elsewhere as type-erased `AnyApiHandler`s).
///
/// These responses are small and their APIs run at human or heartbeat rates, so decoding the body again is
/// cheap, and it keeps error counting in one place instead of in every handler. Produce and Fetch are counted by
/// their handlers from the values they encode (never decoded here).
enum ResponseErrorScanner {
    /// The APIs whose encoded responses are scanned.
    static func scans(_ api: ApiKey) -> Bool {
        switch api {
        case .listOffsets, .findCoordinator, .joinGroup, .syncGroup, .heartbeat, .leaveGroup, .offsetCommit,
            .offsetFetch, .describeGroups, .listGroups, .deleteGroups, .offsetDelete:
            true
        default:
            false
        }
    }

    /// Decodes the response in `parts` (header + body, as `ResponseEncoder` writes it) and counts its error
    /// codes. Responses that do not decode are ignored (they were produced by our own encoder).
    static func record(_ parts: [ResponsePart], api: ApiKey, version: Int16, into metrics: BrokerMetrics) {
        guard scans(api), let bytes = contiguous(parts) else { return }
        var reader = MessageReader(bytes)
        do {
            _ = try reader.readInt32()  // correlation id
            if api != .apiVersions, api.flexibleVersionsStart.map({ version >= $0 }) ?? false {
                _ = try reader.readUnknownTaggedFields()
            }
            switch api {
            case .listOffsets: try count(ListOffsetsResponse.self, &reader, version, api, metrics)
            case .findCoordinator: try count(FindCoordinatorResponse.self, &reader, version, api, metrics)
            case .joinGroup: try count(JoinGroupResponse.self, &reader, version, api, metrics)
            case .syncGroup: try count(SyncGroupResponse.self, &reader, version, api, metrics)
            case .heartbeat: try count(HeartbeatResponse.self, &reader, version, api, metrics)
            case .leaveGroup: try count(LeaveGroupResponse.self, &reader, version, api, metrics)
            case .offsetCommit: try count(OffsetCommitResponse.self, &reader, version, api, metrics)
            case .offsetFetch: try count(OffsetFetchResponse.self, &reader, version, api, metrics)
            case .describeGroups: try count(DescribeGroupsResponse.self, &reader, version, api, metrics)
            case .listGroups: try count(ListGroupsResponse.self, &reader, version, api, metrics)
            case .deleteGroups: try count(DeleteGroupsResponse.self, &reader, version, api, metrics)
            case .offsetDelete: try count(OffsetDeleteResponse.self, &reader, version, api, metrics)
            default: return
            }
        } catch {
            return
        }
    }

    private static func count<Response: KafkaResponseMessage & ErrorCodeReporting>(
        _ type: Response.Type, _ reader: inout MessageReader, _ version: Int16, _ api: ApiKey, _ metrics: BrokerMetrics
    ) throws(ProtocolError) {
        let response = try Response(from: &reader, version: version)
        metrics.recordErrors(in: response, api: api)
    }

    /// The parts as one buffer (these encoders write a single `.bytes` part; anything with a file part is skipped).
    private static func contiguous(_ parts: [ResponsePart]) -> ByteBuffer? {
        if parts.count == 1, case let .bytes(buffer) = parts[0] { return buffer }
        var joined = ByteBuffer()
        for part in parts {
            guard case var .bytes(buffer) = part else { return nil }
            joined.writeBuffer(&buffer)
        }
        return joined
    }
}
