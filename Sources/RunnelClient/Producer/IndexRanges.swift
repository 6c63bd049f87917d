/// A set of record indices (the position of each record in the order it was handed to the producer), stored as
/// ascending closed ranges so the usual case (a batch of consecutive records) costs one element.
public struct IndexRanges: Sendable, Equatable, CustomStringConvertible {
    public private(set) var ranges: [ClosedRange<Int>] = []

    public init() {}

    /// Number of indices.
    public var count: Int { ranges.reduce(0) { $0 + $1.count } }

    /// Adds `index`, which must be greater than every index added before.
    public mutating func append(_ index: Int) {
        append(index...index)
    }

    /// Adds `range`, whose lower bound must be greater than every index added before.
    public mutating func append(_ range: ClosedRange<Int>) {
        if let last = ranges.last, last.upperBound + 1 == range.lowerBound {
            ranges[ranges.count - 1] = last.lowerBound...range.upperBound
        } else {
            ranges.append(range)
        }
    }

    /// Adds every range of `other`, whose indices must all be greater than every index added before.
    public mutating func append(contentsOf other: IndexRanges) {
        for range in other.ranges { append(range) }
    }

    public func contains(_ index: Int) -> Bool { ranges.contains { $0.contains(index) } }

    /// `3-7, 9` style (0-based indices), eliding after `limit` ranges.
    public var description: String {
        let shown = ranges.prefix(8).map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
        return shown.joined(separator: ", ") + (ranges.count > 8 ? ", ..." : "")
    }
}
