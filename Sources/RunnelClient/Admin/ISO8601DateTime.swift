/// A date-time as `kafka-consumer-groups.sh --to-datetime` takes it: `YYYY-MM-DDTHH:mm:SS.sss`, where the
/// time (or its seconds / fraction) may be left off and a zone `Z`, `±HH:MM`, `±HHMM` or `±HH` may follow.
/// Without a zone the time is local, as in Kafka.
///
/// Parsed without Foundation (proleptic Gregorian calendar, no leap seconds), so the client library stays
/// Foundation-free; the caller supplies the local zone's offset.
public struct ISO8601DateTime: Sendable, Equatable {
    /// Milliseconds since 1970-01-01T00:00:00 of the written wall-clock time, as if it were UTC.
    public var wallClockMs: Int64
    /// The written zone's offset from UTC in seconds (east positive); nil when none was written.
    public var zoneOffsetSeconds: Int?

    public init(wallClockMs: Int64, zoneOffsetSeconds: Int?) {
        self.wallClockMs = wallClockMs
        self.zoneOffsetSeconds = zoneOffsetSeconds
    }

    /// Parses `text`; nil when it is not of the accepted form or a field is out of range.
    public init?(parsing text: String) {
        var scanner = Scanner(Array(text.utf8))
        guard let year = scanner.digits(4), scanner.take("-"), let month = scanner.digits(2), scanner.take("-"),
            let day = scanner.digits(2), (1...12).contains(month), day >= 1,
            day <= Self.daysInMonth(year: year, month: month)
        else { return nil }
        var (hour, minute, second, millis) = (0, 0, 0, 0)
        if scanner.take("T") || scanner.take("t") || scanner.take(" ") {
            guard let h = scanner.digits(2), scanner.take(":"), let m = scanner.digits(2), h < 24, m < 60 else {
                return nil
            }
            (hour, minute) = (h, m)
            if scanner.take(":") {
                guard let s = scanner.digits(2), s < 60 else { return nil }
                second = s
                if scanner.take(".") || scanner.take(",") {
                    // 1 to 9 fraction digits; only milliseconds are kept.
                    var digits = 0
                    var value = 0
                    while let d = scanner.digits(1) {
                        if digits < 3 { value = value * 10 + d }
                        digits += 1
                    }
                    guard (1...9).contains(digits) else { return nil }
                    var scale = digits
                    while scale < 3 {
                        value *= 10
                        scale += 1
                    }
                    millis = value
                }
            }
        }
        var zone: Int?
        if scanner.take("Z") || scanner.take("z") {
            zone = 0
        } else if let sign = scanner.peek, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            scanner.advance()
            guard let zh = scanner.digits(2), zh <= 18 else { return nil }
            var zm = 0
            if scanner.take(":") {
                guard let m = scanner.digits(2) else { return nil }
                zm = m
            } else if let m = scanner.digits(2) {
                zm = m
            }
            guard zm < 60 else { return nil }
            zone = (sign == UInt8(ascii: "-") ? -1 : 1) * (zh * 3600 + zm * 60)
        }
        guard scanner.atEnd else { return nil }
        let days = Self.daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        self.init(wallClockMs: seconds * 1000 + Int64(millis), zoneOffsetSeconds: zone)
    }

    /// Milliseconds since the epoch. `localZoneOffsetSeconds` maps a wall-clock time (ms, as if UTC) to the
    /// local zone's offset then; it is used only when no zone was written.
    public func epochMilliseconds(localZoneOffsetSeconds: (Int64) -> Int) -> Int64 {
        let offset = zoneOffsetSeconds ?? localZoneOffsetSeconds(wallClockMs)
        return wallClockMs - Int64(offset) * 1000
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// A cursor over ASCII bytes.
    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { index == bytes.count }
        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }
        mutating func advance() { index += 1 }

        /// Consumes `character` if it is next.
        mutating func take(_ character: Unicode.Scalar) -> Bool {
            guard let next = peek, next == UInt8(ascii: character) else { return false }
            index += 1
            return true
        }

        /// Consumes exactly `count` decimal digits, or nothing.
        mutating func digits(_ count: Int) -> Int? {
            guard index + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<(index + count)] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            index += count
            return value
        }
    }
}
