/// A parsed Prometheus text exposition (format 0.0.4), as `GET /metrics` serves it: the samples and the
/// `# TYPE` of each metric family.
///
/// Grammar accepted, one item per line (blank lines ignored):
/// - `# TYPE name type`, `# HELP name text`, other `#` comments (ignored);
/// - `name value [timestamp]` or `name{label="value",...} value [timestamp]`, where label values escape `\\`,
///   `\"` and `\n`, a trailing comma in the label set is allowed, and `value` is a float, `+Inf`, `-Inf` or `NaN`.
///
/// Limits: input is bounded by the caller (the HTTP body); lines that do not follow the grammar throw with their
/// line number.
public struct PrometheusText: Sendable {
    /// One sample line.
    public struct Sample: Sendable, Hashable {
        public var name: String
        public var labels: [String: String]
        public var value: Double

        public init(name: String, labels: [String: String] = [:], value: Double) {
            self.name = name
            self.labels = labels
            self.value = value
        }
    }

    /// Every sample, in input order.
    public private(set) var samples: [Sample] = []
    /// `# TYPE` per family name (`counter`, `gauge`, `histogram`, ...).
    public private(set) var types: [String: String] = [:]
    private var byName: [String: [Int]] = [:]

    /// Parses `text`.
    /// - Throws: `PrometheusTextError.malformedLine`.
    public init(parsing text: String) throws(PrometheusTextError) {
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.last == "\r" ? rawLine.dropLast() : rawLine[...]
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty { continue }
            if trimmed.first == "#" {
                let words = trimmed.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true)
                if words.count >= 4, words[1] == "TYPE" { types[String(words[2])] = String(words[3]) }
                continue
            }
            guard let sample = Self.parseSample(Array(trimmed.utf8)) else {
                throw .malformedLine(number: lineNumber, text: String(trimmed.prefix(200)))
            }
            byName[sample.name, default: []].append(samples.count)
            samples.append(sample)
        }
    }

    /// The samples of metric `name` (for a histogram, name its `_bucket`/`_sum`/`_count` series).
    public func samples(named name: String) -> [Sample] {
        (byName[name] ?? []).map { samples[$0] }
    }

    /// The value of the sample `name` whose labels include `labels`; the first match, or nil.
    public func value(_ name: String, labels: [String: String] = [:]) -> Double? {
        samples(named: name).first { sample in labels.allSatisfy { sample.labels[$0.key] == $0.value } }?.value
    }

    /// The sum over samples of `name` whose labels include `labels` (0 when none).
    public func sum(_ name: String, labels: [String: String] = [:]) -> Double {
        samples(named: name).filter { sample in labels.allSatisfy { sample.labels[$0.key] == $0.value } }
            .reduce(0) { $0 + $1.value }
    }

    // MARK: - Line grammar

    private static func parseSample(_ bytes: [UInt8]) -> Sample? {
        var index = 0
        let nameStart = index
        while index < bytes.count, isNameByte(bytes[index], first: index == nameStart) { index += 1 }
        guard index > nameStart, let name = String(validating: bytes[nameStart..<index], as: UTF8.self) else { return nil }
        var labels: [String: String] = [:]
        if index < bytes.count, bytes[index] == UInt8(ascii: "{") {
            index += 1
            while true {
                skipBlanks(bytes, &index)
                guard index < bytes.count else { return nil }
                if bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    break
                }
                let labelStart = index
                while index < bytes.count, isNameByte(bytes[index], first: index == labelStart), bytes[index] != UInt8(ascii: ":") {
                    index += 1
                }
                guard index > labelStart, let label = String(validating: bytes[labelStart..<index], as: UTF8.self)
                else { return nil }
                skipBlanks(bytes, &index)
                guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else { return nil }
                index += 1
                skipBlanks(bytes, &index)
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
                index += 1
                var value: [UInt8] = []
                var closed = false
                while index < bytes.count {
                    let byte = bytes[index]
                    index += 1
                    if byte == UInt8(ascii: "\"") {
                        closed = true
                        break
                    }
                    if byte == UInt8(ascii: "\\") {
                        guard index < bytes.count else { return nil }
                        let escaped = bytes[index]
                        index += 1
                        switch escaped {
                        case UInt8(ascii: "n"): value.append(UInt8(ascii: "\n"))
                        case UInt8(ascii: "\\"), UInt8(ascii: "\""): value.append(escaped)
                        default: value += [byte, escaped]
                        }
                    } else {
                        value.append(byte)
                    }
                }
                guard closed, let text = String(validating: value, as: UTF8.self) else { return nil }
                labels[label] = text
                skipBlanks(bytes, &index)
                guard index < bytes.count else { return nil }
                if bytes[index] == UInt8(ascii: ",") { index += 1 }
            }
        }
        guard index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") else {
            return nil
        }
        skipBlanks(bytes, &index)
        let valueStart = index
        while index < bytes.count, bytes[index] != UInt8(ascii: " "), bytes[index] != UInt8(ascii: "\t") { index += 1 }
        guard let text = String(validating: bytes[valueStart..<index], as: UTF8.self), let value = parseValue(text)
        else { return nil }
        skipBlanks(bytes, &index)
        if index < bytes.count {  // optional timestamp (ms), ignored
            guard Int64(String(decoding: bytes[index...], as: UTF8.self).trimmingBlanks) != nil else { return nil }
        }
        return Sample(name: name, labels: labels, value: value)
    }

    private static func parseValue(_ text: String) -> Double? {
        switch text {
        case "+Inf", "Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default: return Double(text)
        }
    }

    private static func isNameByte(_ byte: UInt8, first: Bool) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"),
            UInt8(ascii: ":"):
            true
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            !first
        default:
            false
        }
    }

    private static func skipBlanks(_ bytes: [UInt8], _ index: inout Int) {
        while index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") { index += 1 }
    }
}

/// Why Prometheus text did not parse.
public enum PrometheusTextError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A sample line that does not follow the grammar (1-based line number).
    case malformedLine(number: Int, text: String)

    public var description: String {
        switch self {
        case let .malformedLine(number, text): "malformed Prometheus text at line \(number): \(text)"
        }
    }
}
