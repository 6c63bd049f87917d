/// A parser for Java `.properties` text, the format of Kafka's `server.properties`.
///
/// Rules (`java.util.Properties.load`):
/// - a line whose first non-blank character is `#` or `!` is a comment; blank lines are skipped;
/// - a line ending in an odd number of backslashes continues on the next line, whose leading blanks are dropped;
/// - the key ends at the first unescaped `=`, `:` or blank; blanks, then at most one `=`/`:`, then blanks
///   separate it from the value, which is the rest of the line;
/// - escapes `\t \n \r \f \uXXXX` are decoded in keys and values; any other escaped character stands for itself.
///
/// Later assignments of the same key win, as in Java. Pure: no file access here (see `load(path:)`).
struct PropertiesFile: Sendable, Equatable {
    /// Key/value pairs in file order (duplicates kept; `dictionary` resolves them).
    var entries: [(key: String, value: String)]

    static func == (lhs: PropertiesFile, rhs: PropertiesFile) -> Bool {
        lhs.entries.elementsEqual(rhs.entries) { $0.key == $1.key && $0.value == $1.value }
    }

    /// The last value of every key.
    var dictionary: [String: String] {
        var result: [String: String] = [:]
        for entry in entries { result[entry.key] = entry.value }
        return result
    }

    /// Parses `.properties` text.
    /// - Throws: `BrokerConfigurationError.malformedProperties` for a bad `\u` escape.
    init(parsing text: String) throws(BrokerConfigurationError) {
        entries = []
        var logical = ""
        var continuing = false
        var lineNumber = 0
        var startLine = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = Substring(rawLine)
            if line.last == "\r" { line = line.dropLast() }
            if continuing {
                line = line.drop { $0 == " " || $0 == "\t" || $0 == "\u{0C}" }
            } else {
                let trimmed = line.drop { $0 == " " || $0 == "\t" || $0 == "\u{0C}" }
                if trimmed.isEmpty || trimmed.first == "#" || trimmed.first == "!" { continue }
                line = trimmed
                startLine = lineNumber
            }
            let trailingBackslashes = line.reversed().prefix { $0 == "\\" }.count
            if trailingBackslashes % 2 == 1 {
                logical += line.dropLast()
                continuing = true
                continue
            }
            logical += line
            continuing = false
            entries.append(try Self.split(logical, line: startLine))
            logical = ""
        }
        if continuing, !logical.isEmpty {
            entries.append(try Self.split(logical, line: startLine))
        }
    }

    /// Splits one logical line into key and value and decodes escapes.
    private static func split(_ line: String, line number: Int) throws(BrokerConfigurationError) -> (
        key: String, value: String
    ) {
        let characters = Array(line)
        var index = 0
        var rawKey = ""
        while index < characters.count {
            let character = characters[index]
            if character == "\\", index + 1 < characters.count {
                rawKey.append(character)
                rawKey.append(characters[index + 1])
                index += 2
                continue
            }
            if character == "=" || character == ":" || character == " " || character == "\t" || character == "\u{0C}" {
                break
            }
            rawKey.append(character)
            index += 1
        }
        // Separator: blanks, at most one '=' or ':', blanks.
        while index < characters.count, characters[index] == " " || characters[index] == "\t"
            || characters[index] == "\u{0C}"
        {
            index += 1
        }
        if index < characters.count, characters[index] == "=" || characters[index] == ":" { index += 1 }
        while index < characters.count, characters[index] == " " || characters[index] == "\t"
            || characters[index] == "\u{0C}"
        {
            index += 1
        }
        let rawValue = String(characters[index...])
        return (try unescape(rawKey, line: number), try unescape(rawValue, line: number))
    }

    private static func unescape(_ text: String, line: Int) throws(BrokerConfigurationError) -> String {
        guard text.contains("\\") else { return text }
        var result = ""
        var iterator = Array(text).makeIterator()
        while let character = iterator.next() {
            guard character == "\\" else {
                result.append(character)
                continue
            }
            guard let escaped = iterator.next() else { break }
            switch escaped {
            case "t": result.append("\t")
            case "n": result.append("\n")
            case "r": result.append("\r")
            case "f": result.append("\u{0C}")
            case "u":
                var hex = ""
                for _ in 0..<4 {
                    guard let digit = iterator.next() else { break }
                    hex.append(digit)
                }
                guard hex.count == 4, let code = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(code) else {
                    throw .malformedProperties(line: line, reason: "bad \\u escape '\\u\(hex)'")
                }
                result.unicodeScalars.append(scalar)
            default: result.append(escaped)
            }
        }
        return result
    }
}
