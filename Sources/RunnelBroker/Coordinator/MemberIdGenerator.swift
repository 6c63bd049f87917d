/// Makes group member ids the way Kafka does: `<prefix>-<uuid>`, where the prefix is the client id (dynamic
/// members) or the group instance id (static members) and the UUID is a random version-4 UUID in
/// `java.util.UUID`'s 36-character lowercase form.
enum MemberIdGenerator {
    /// A new member id for `prefix`.
    static func memberId(prefix: String) -> String {
        prefix + "-" + randomUUIDString()
    }

    /// A random RFC 4122 version-4 UUID, e.g. `1b4e28ba-2fa1-41d2-883f-0016d3cca427`.
    static func randomUUIDString() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40  // version 4
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // IETF variant
        let digits = Array("0123456789abcdef")
        var text = ""
        text.reserveCapacity(36)
        for (index, byte) in bytes.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { text.append("-") }
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return text
    }
}
