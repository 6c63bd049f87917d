public import RunnelProtocol

/// The API versions this client speaks and, after negotiation, the versions to use with one broker.
///
/// Negotiation rule (as Kafka's `NetworkClient`): use `min(clientMax, brokerMax)` per API, provided it is at
/// least `max(clientMin, brokerMin)`; otherwise the API is unusable with this broker.
public struct ApiVersionTable: Sendable, Equatable {
    /// The versions this client encodes and whose semantics it implements, per API.
    /// Minimums are where the client's logic starts to hold (e.g. record batch v2 needs Produce v3 / Fetch v4).
    public static let client: [ApiKey: ClosedRange<Int16>] = [
        .produce: 3...9,
        .fetch: 4...12,
        .listOffsets: 1...7,
        .metadata: 1...12,
        .apiVersions: 0...3,
        .createTopics: 2...7,
        .deleteTopics: 1...6,
        .initProducerId: 0...4,
        .describeConfigs: 1...4,
        .alterConfigs: 0...2,
        .incrementalAlterConfigs: 0...1,
        .createPartitions: 0...3,
        .deleteRecords: 0...2,
        .describeLogDirs: 1...4,
        .describeCluster: 0...1,
        .findCoordinator: 1...4,
        .joinGroup: 1...7,
        .syncGroup: 0...5,
        .heartbeat: 0...4,
        .leaveGroup: 0...4,
        .offsetCommit: 2...8,
        .offsetFetch: 1...7,
    ]

    /// The broker's advertised ranges, by raw API key.
    public let broker: [Int16: ClosedRange<Int16>]

    public init(broker: [Int16: ClosedRange<Int16>]) {
        self.broker = broker
    }

    /// Builds the table from an ApiVersions response.
    public init(response: ApiVersionsResponse) {
        var table: [Int16: ClosedRange<Int16>] = [:]
        for entry in response.apiKeys where entry.minVersion <= entry.maxVersion {
            table[entry.apiKey] = entry.minVersion...entry.maxVersion
        }
        self.init(broker: table)
    }

    /// The version to use for `apiKey`, or nil when client and broker share none.
    public func version(for apiKey: ApiKey) -> Int16? {
        guard let ours = Self.client[apiKey], let theirs = broker[apiKey.rawValue] else { return nil }
        let version = min(ours.upperBound, theirs.upperBound)
        return version >= max(ours.lowerBound, theirs.lowerBound) ? version : nil
    }

    /// Whether the broker serves `apiKey` at a version this client speaks.
    public func supports(_ apiKey: ApiKey) -> Bool { version(for: apiKey) != nil }
}
