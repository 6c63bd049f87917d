import Foundation

/// A set of versions as Kafka's JSON writes it: "none", "N", "N+", "A-B". Empty when `low > high`.
struct VersionRange: Equatable {
    var low: Int
    var high: Int  // Int.max for "N+"

    static let none = VersionRange(low: 1, high: 0)
    static let all = VersionRange(low: 0, high: Int.max)

    var isEmpty: Bool { low > high }

    init(low: Int, high: Int) {
        self.low = low
        self.high = high
    }

    init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "none" || trimmed.isEmpty {
            self = .none
        } else if trimmed.hasSuffix("+"), let low = Int(trimmed.dropLast()) {
            self.init(low: low, high: Int.max)
        } else if let dash = trimmed.firstIndex(of: "-"), let low = Int(trimmed[..<dash]),
            let high = Int(trimmed[trimmed.index(after: dash)...])
        {
            self.init(low: low, high: high)
        } else if let single = Int(trimmed) {
            self.init(low: single, high: single)
        } else {
            throw GeneratorError.invalidSchema("bad version range '\(text)'")
        }
    }

    func intersection(_ other: VersionRange) -> VersionRange {
        let result = VersionRange(low: max(low, other.low), high: min(high, other.high))
        return result.isEmpty ? .none : result
    }

    func contains(_ other: VersionRange) -> Bool {
        other.isEmpty || (low <= other.low && other.high <= high)
    }

    func contains(version: Int) -> Bool { low <= version && version <= high }
}

/// How a condition on `version` evaluates within a context range.
enum Condition: Equatable {
    case always
    case never
    case when(String)

    /// The condition "version ∈ range", simplified knowing that version ∈ context.
    init(_ range: VersionRange, within context: VersionRange) {
        let effective = range.intersection(context)
        if effective.isEmpty {
            self = .never
        } else if range.contains(context) {
            self = .always
        } else {
            var parts: [String] = []
            if effective.low > context.low { parts.append("version >= \(effective.low)") }
            if effective.high < context.high { parts.append("version <= \(effective.high)") }
            self = parts.isEmpty ? .always : .when(parts.joined(separator: " && "))
        }
    }

    /// A Swift Bool expression.
    var expression: String {
        switch self {
        case .always: "true"
        case .never: "false"
        case .when(let text): text
        }
    }
}

enum GeneratorError: Error, CustomStringConvertible {
    case invalidSchema(String)
    case io(String)

    var description: String {
        switch self {
        case .invalidSchema(let text): "invalid schema: \(text)"
        case .io(let text): "I/O error: \(text)"
        }
    }
}

/// A field's wire type.
indirect enum WireType: Equatable {
    case int8, int16, int32, int64, uint16, uint32, float64, bool, uuid, string, bytes, records
    case array(WireType)
    case structure(String)

    init(parsing text: String) {
        if text.hasPrefix("[]") {
            self = .array(WireType(parsing: String(text.dropFirst(2))))
            return
        }
        switch text {
        case "int8": self = .int8
        case "int16": self = .int16
        case "int32": self = .int32
        case "int64": self = .int64
        case "uint16": self = .uint16
        case "uint32": self = .uint32
        case "float64": self = .float64
        case "bool": self = .bool
        case "uuid": self = .uuid
        case "string": self = .string
        case "bytes": self = .bytes
        case "records": self = .records
        default: self = .structure(text)
        }
    }

    var structName: String? {
        switch self {
        case .structure(let name): name
        case .array(let element): element.structName
        default: nil
        }
    }

    var isArray: Bool {
        if case .array = self { return true }
        return false
    }
}

/// One field of a message or struct, as declared in the JSON.
final class FieldSpec {
    let name: String
    let type: WireType
    let versions: VersionRange
    let nullableVersions: VersionRange
    let taggedVersions: VersionRange
    let tag: Int?
    let flexibleOverride: VersionRange?
    let defaultText: String?
    let ignorable: Bool
    let about: String
    let fields: [FieldSpec]?

    init(json: [String: Any]) throws {
        guard let name = json["name"] as? String, let type = json["type"] as? String else {
            throw GeneratorError.invalidSchema("field without name/type: \(json)")
        }
        self.name = name
        self.type = WireType(parsing: type)
        let tagged = try VersionRange(parsing: json["taggedVersions"] as? String ?? "none")
        self.taggedVersions = tagged
        if let versions = json["versions"] as? String {
            self.versions = try VersionRange(parsing: versions)
        } else if !tagged.isEmpty {
            self.versions = tagged
        } else {
            throw GeneratorError.invalidSchema("field \(name) has no versions")
        }
        self.nullableVersions = try VersionRange(parsing: json["nullableVersions"] as? String ?? "none")
        if let tag = json["tag"] as? Int {
            self.tag = tag
        } else if let text = json["tag"] as? String {
            guard let tag = Int(text) else { throw GeneratorError.invalidSchema("field \(name): bad tag \(text)") }
            self.tag = tag
        } else {
            self.tag = nil
        }
        if let flexible = json["flexibleVersions"] as? String {
            self.flexibleOverride = try VersionRange(parsing: flexible)
        } else {
            self.flexibleOverride = nil
        }
        if let value = json["default"] {
            if let text = value as? String {
                self.defaultText = text
            } else if self.type == .bool {
                self.defaultText = (value as? Bool) == true ? "true" : "false"
            } else if let number = value as? NSNumber {
                self.defaultText = number.stringValue
            } else {
                self.defaultText = "\(value)"
            }
        } else {
            self.defaultText = nil
        }
        self.ignorable = json["ignorable"] as? Bool ?? false
        self.about = (json["about"] as? String ?? "").replacingOccurrences(of: "\n", with: " ")
        if let fields = json["fields"] as? [[String: Any]] {
            self.fields = try fields.map { try FieldSpec(json: $0) }
        } else {
            self.fields = nil
        }
        if (self.tag == nil) != tagged.isEmpty {
            throw GeneratorError.invalidSchema("field \(name): tag and taggedVersions must come together")
        }
    }

    var isTagged: Bool { tag != nil }
}

/// A top-level JSON file: a request, response, header or versioned data structure.
struct MessageSpec {
    let fileName: String
    let name: String
    let kind: String  // request, response, header, data
    let apiKey: Int?
    let validVersions: VersionRange
    let flexibleVersions: VersionRange
    let fields: [FieldSpec]
    let commonStructs: [(name: String, fields: [FieldSpec])]

    init(fileName: String, json: [String: Any]) throws {
        self.fileName = fileName
        guard let name = json["name"] as? String, let kind = json["type"] as? String else {
            throw GeneratorError.invalidSchema("\(fileName): missing name/type")
        }
        self.name = name
        self.kind = kind
        self.apiKey = json["apiKey"] as? Int
        self.validVersions = try VersionRange(parsing: json["validVersions"] as? String ?? "none")
        self.flexibleVersions = try VersionRange(parsing: json["flexibleVersions"] as? String ?? "none")
        let fields = json["fields"] as? [[String: Any]] ?? []
        self.fields = try fields.map { try FieldSpec(json: $0) }
        var common: [(String, [FieldSpec])] = []
        for structJSON in json["commonStructs"] as? [[String: Any]] ?? [] {
            guard let structName = structJSON["name"] as? String else {
                throw GeneratorError.invalidSchema("\(fileName): common struct without name")
            }
            let structFields = try (structJSON["fields"] as? [[String: Any]] ?? []).map { try FieldSpec(json: $0) }
            common.append((structName, structFields))
        }
        self.commonStructs = common
    }

    /// Reads a Kafka message JSON file, stripping `//` comments (outside strings) first.
    static func load(path: String) throws -> MessageSpec {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else {
            throw GeneratorError.io("cannot read \(path)")
        }
        let stripped = stripComments(text)
        let object = try JSONSerialization.jsonObject(with: Data(stripped.utf8))
        guard let json = object as? [String: Any] else {
            throw GeneratorError.invalidSchema("\(path): top level is not an object")
        }
        return try MessageSpec(fileName: (path as NSString).lastPathComponent, json: json)
    }

    static func stripComments(_ text: String) -> String {
        var output = ""
        output.reserveCapacity(text.count)
        var inString = false
        var escaped = false
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if inString {
                output.append(character)
                if escaped {
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    inString = false
                }
                index = text.index(after: index)
                continue
            }
            if character == "\"" {
                inString = true
                output.append(character)
                index = text.index(after: index)
                continue
            }
            let next = text.index(after: index)
            if character == "/", next < text.endIndex, text[next] == "/" {
                while index < text.endIndex, text[index] != "\n" { index = text.index(after: index) }
                continue
            }
            output.append(character)
            index = next
        }
        return output
    }
}
