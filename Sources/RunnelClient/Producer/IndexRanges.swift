/// A set of record indices (the position of each record in the order it was handed to the producer), stored as
/// ascending closed ranges so the usual case (a batch of consecutive records) costs one element.
public struct IndexRanges: Sendable, Equatable, CustomStringConvertible {
    public private(set) var ranges: [ClosedRange<Int>] = []

    public init() {}

    /// Number of indices.
    public var count: Int { ranges.reduce(0) { $0 + $1.count } }

    /// Adds `index`, which must be greater than every index added before.
    public mutating func append(_ index: Int) {
        if let last = ranges.last, last.upperBound + 1 == index {
            ranges[ranges.count - 1] = last.lowerBound...index
        } else {
            ranges.append(index...index)
        }
    }

    public func contains(_ index: Int) -> Bool { ranges.contains { $0.contains(index) } }

    /// `3-7, 9` style (0-based indices), eliding after `limit` ranges.
    public var description: String {
        let shown = ranges.prefix(8).map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
        return shown.joined(separator: ", ") + (ranges.count > 8 ? ", ..." : "")
    }
}
