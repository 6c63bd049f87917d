/// Where a consumer starts reading a partition.
public enum StartOffset: Sendable, Hashable, CustomStringConvertible {
    /// The log start offset (oldest retained record).
    case earliest
    /// The high watermark: only records produced from now on.
    case latest
    /// An absolute offset (clamped into [earliest, latest] by the broker's answer to an out-of-range fetch).
    case offset(Int64)
    /// `n` records before the end (`latest - n`, not before earliest), as kcat's `-o -N`.
    case fromEnd(Int64)
    /// The first record whose timestamp is at or after this time (ms since the epoch); latest if none is.
    case timestamp(Int64)

    /// Parses `earliest`/`beginning`, `latest`/`end`, `N`, `-N`, `@TIMESTAMP_MS` (or `s@TIMESTAMP_MS`).
    public init?(parsing text: String) {
        switch text.lowercased() {
        case "earliest", "beginning", "oldest": self = .earliest
        case "latest", "end", "newest": self = .latest
        default:
            if text.hasPrefix("@") || text.hasPrefix("s@") {
                guard let ms = Int64(text.drop { $0 != "@" }.dropFirst()), ms >= 0 else { return nil }
                self = .timestamp(ms)
            } else if text.hasPrefix("-") {
                guard let n = Int64(text.dropFirst()), n >= 0 else { return nil }
                self = .fromEnd(n)
            } else {
                guard let n = Int64(text), n >= 0 else { return nil }
                self = .offset(n)
            }
        }
    }

    public var description: String {
        switch self {
        case .earliest: "earliest"
        case .latest: "latest"
        case .offset(let n): "\(n)"
        case .fromEnd(let n): "-\(n)"
        case .timestamp(let ms): "@\(ms)"
        }
    }
}
