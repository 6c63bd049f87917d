/// Kafka's topic-name rules (`org.apache.kafka.common.internals.Topic`).
///
/// Legal: 1...249 characters of `[a-zA-Z0-9._-]`, not "." nor "..". Names differing only in '.' vs '_'
/// collide in metric names, so Kafka refuses to create one when the other exists.
public enum TopicName {
    /// Longest legal name, characters (249 = 255 minus room for "-<partition>" and suffixes).
    public static let maxLength = 249
    /// Topics Kafka treats as internal (clients may not produce to them).
    public static let internalTopics: Set<String> = ["__consumer_offsets", "__transaction_state"]

    /// Why `name` is illegal, or nil when it is legal.
    public static func validationError(_ name: String) -> String? {
        if name.isEmpty { return "topic name is empty" }
        if name == "." || name == ".." { return "topic name cannot be \".\" or \"..\"" }
        if name.utf8.count > maxLength {
            return "topic name is longer than \(maxLength) characters"
        }
        let legal = name.utf8.allSatisfy { byte in
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }
        if !legal {
            return "topic name '\(name)' contains characters other than ASCII alphanumerics, '.', '_' and '-'"
        }
        return nil
    }

    /// True when the name contains '.' or '_' (could collide with another topic's metric name).
    public static func hasCollisionChars(_ name: String) -> Bool { name.contains(".") || name.contains("_") }

    /// The name with '.' replaced by '_': two topics with the same unified name collide.
    public static func unifiedForCollision(_ name: String) -> String { String(name.map { $0 == "." ? "_" : $0 }) }

    public static func isInternal(_ name: String) -> Bool { internalTopics.contains(name) }
}
