/// The state of a classic group (KAFKA-FORMATS §8.2, Kafka's `ClassicGroupState`).
///
/// Transitions: Empty → PreparingRebalance; PreparingRebalance → CompletingRebalance or Empty;
/// CompletingRebalance → Stable or PreparingRebalance; Stable → PreparingRebalance; any → Dead.
enum ClassicGroupState: Sendable, Hashable, CaseIterable {
    /// No members; the group may still hold committed offsets.
    case empty
    /// Waiting for members to (re)join.
    case preparingRebalance
    /// Join done; waiting for the leader's assignment (SyncGroup).
    case completingRebalance
    /// Assignment handed out.
    case stable
    /// Removed (deleted or expired); the coordinator forgets it.
    case dead

    /// The name Kafka reports in DescribeGroups / ListGroups.
    var kafkaName: String {
        switch self {
        case .empty: "Empty"
        case .preparingRebalance: "PreparingRebalance"
        case .completingRebalance: "CompletingRebalance"
        case .stable: "Stable"
        case .dead: "Dead"
        }
    }

    /// Parses a ListGroups states filter entry (case-insensitive, as Kafka does).
    init?(kafkaName: String) {
        let lowered = kafkaName.lowercased()
        guard let state = Self.allCases.first(where: { $0.kafkaName.lowercased() == lowered }) else { return nil }
        self = state
    }

    /// States a transition may come from, as Kafka's `validPreviousStates`.
    var validPreviousStates: Set<ClassicGroupState> {
        switch self {
        case .empty: [.preparingRebalance]
        case .preparingRebalance: [.stable, .completingRebalance, .empty]
        case .completingRebalance: [.preparingRebalance]
        case .stable: [.completingRebalance]
        case .dead: [.stable, .preparingRebalance, .completingRebalance, .empty, .dead]
        }
    }
}
