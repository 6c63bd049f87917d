/// A duration in the ISO 8601 form kafka-consumer-groups.sh's `--by-duration` takes (Java's `Duration.parse`):
/// `PnDTnHnMnS`, e.g. `PT15M`, `P1DT12H`, `PT0.5S`; at least one component, each a non-negative number (seconds may
/// have up to 9 fraction digits), letters case-insensitive.
public struct ISO8601Duration: Sendable, Equatable {
    /// The duration, milliseconds (fractions below a millisecond are dropped).
    public let milliseconds: Int64

    /// Parses `text`; nil when it is not of the form above or overflows.
    public init?(parsing text: String) {
        var chars = Array(text.uppercased().utf8)[...]
        guard chars.popFirst() == UInt8(ascii: "P"), !chars.isEmpty else { return nil }
        var total: Int64 = 0
        var inTime = false
        var components = 0
        var lastUnitRank = -1  // D < H < M < S: each at most once, in this order
        while !chars.isEmpty {
            if chars.first == UInt8(ascii: "T") {
                guard !inTime else { return nil }
                inTime = true
                chars.removeFirst()
                guard !chars.isEmpty else { return nil }
                continue
            }
            var whole: Int64 = 0
            var digits = 0
            while let c = chars.first, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
                let (times, o1) = whole.multipliedReportingOverflow(by: 10)
                let (plus, o2) = times.addingReportingOverflow(Int64(c - UInt8(ascii: "0")))
                guard !o1, !o2 else { return nil }
                whole = plus
                digits += 1
                chars.removeFirst()
            }
            var fractionMs: Int64 = 0
            if chars.first == UInt8(ascii: ".") {
                chars.removeFirst()
                var scale: Int64 = 100
                var fractionDigits = 0
                while let c = chars.first, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
                    fractionMs += Int64(c - UInt8(ascii: "0")) * scale
                    scale /= 10
                    fractionDigits += 1
                    chars.removeFirst()
                }
                guard fractionDigits >= 1, fractionDigits <= 9, chars.first == UInt8(ascii: "S") else { return nil }
            }
            guard digits > 0, let unit = chars.popFirst() else { return nil }
            let (rank, unitMs): (Int, Int64)
            switch unit {
            case UInt8(ascii: "D") where !inTime: (rank, unitMs) = (0, 86_400_000)
            case UInt8(ascii: "H") where inTime: (rank, unitMs) = (1, 3_600_000)
            case UInt8(ascii: "M") where inTime: (rank, unitMs) = (2, 60_000)
            case UInt8(ascii: "S") where inTime: (rank, unitMs) = (3, 1_000)
            default: return nil
            }
            guard rank > lastUnitRank else { return nil }
            lastUnitRank = rank
            let (part, o1) = whole.multipliedReportingOverflow(by: unitMs)
            let (sum, o2) = total.addingReportingOverflow(part)
            let (withFraction, o3) = sum.addingReportingOverflow(fractionMs)
            guard !o1, !o2, !o3 else { return nil }
            total = withFraction
            components += 1
        }
        guard components > 0 else { return nil }
        milliseconds = total
    }
}
