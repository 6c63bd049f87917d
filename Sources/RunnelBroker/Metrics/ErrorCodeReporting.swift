import RunnelProtocol

/// A response whose Kafka error codes `runnel_request_errors_total` counts: the top-level code and every
/// topic/partition/member/group-level code, zero or not (callers skip zeros).
protocol ErrorCodeReporting {
    func forEachErrorCode(_ body: (Int16) -> Void)
}

// MARK: - Conformances

extension ProduceResponse: ErrorCodeReporting {
    func forEachErrorCode(_ body: (Int16) -> Void) {
        for topic in responses { for partition in topic.partitionResponses { body(partition.errorCode) } }
    }
}

extension ListOffsetsResponse: ErrorCodeReporting {
    func forEachErrorCode(_ body: (Int16) -> Void) {
        for topic in topics { for partition in topic.partitions { body(partition.errorCode) } }
    }
}

extension FindCoordinatorResponse: ErrorCodeReporting {
    func forEachErrorCode(_ body: (Int16) -> Void) {
        body(errorCode)
        for coordinator in coordinators { body(coordinator.errorCode) }
    }
}

extension JoinGroupResponse: ErrorCodeReporting {
    func forEachErrorCode(_ body: (Int16) -> Void) { body(errorCode) }
}

extension SyncGroupResponse: ErrorCodeReporting {
    func forEachErrorCode(_ body: (Int16) -> Void) { body(errorCode) }
}

extension HeartbeatResponse: ErrorCodeReporting {
    func forEachErrorCode(_ body: (Int16) -> Void) { body(errorCode) }
}

extension LeaveGroupResponse: ErrorCodeReporting {
    func forEachErrorCode(_ body: (Int16) -> Void) {
        body(errorCode)
        for member in members { body(member.errorCode) }
    }
}

extension OffsetCommitResponse: ErrorCodeReporting {
    func forEachErrorCode(_ body: (Int16) -> Void) {
        for topic in topics { for partition in topic.partitions { body(partition.errorCode) } }
    }
}

extension OffsetFetchResponse: ErrorCodeReporting {
    func forEachErrorCode(_ body: (Int16) -> Void) {
        body(errorCode)
        for topic in topics { for partition in topic.partitions { body(partition.errorCode) } }
        for group in groups {
            body(group.errorCode)
            for topic in group.topics { for partition in topic.partitions { body(partition.errorCode) } }
        }
    }
}

extension DescribeGroupsResponse: ErrorCodeReporting {
    func forEachErrorCode(_ body: (Int16) -> Void) {
        for group in groups { body(group.errorCode) }
    }
}

extension ListGroupsResponse: ErrorCodeReporting {
    func forEachErrorCode(_ body: (Int16) -> Void) { body(errorCode) }
}

extension DeleteGroupsResponse: ErrorCodeReporting {
    func forEachErrorCode(_ body: (Int16) -> Void) {
        for result in results { body(result.errorCode) }
    }
}

extension OffsetDeleteResponse: ErrorCodeReporting {
    func forEachErrorCode(_ body: (Int16) -> Void) {
        body(errorCode)
        for topic in topics { for partition in topic.partitions { body(partition.errorCode) } }
    }
}
