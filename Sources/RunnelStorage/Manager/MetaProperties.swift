/// `<data dir>/meta.properties` (KRaft style, Java properties text): `version=1`, `cluster.id`, `node.id`,
/// `directory.id`. Written once, atomically, when absent; read back afterwards.
struct MetaProperties: Sendable, Hashable {
    var clusterId: String
    var nodeId: Int32
    var directoryId: String

    static let fileName = "meta.properties"

    /// Reads the file, or creates it with fresh random ids.
    /// - Throws: `.corruptCheckpoint` when the file exists but lacks `cluster.id`/`node.id` or has another version.
    static func loadOrCreate(directory: String) throws(StorageError) -> MetaProperties {
        let path = directory + "/" + fileName
        if FileSystem.exists(path) {
            let bytes = try FileSystem.readFile(path)
            return try parse(String(decoding: bytes, as: UTF8.self), path: path)
        }
        let meta = MetaProperties(clusterId: randomUuidString(), nodeId: 1, directoryId: randomUuidString())
        try FileSystem.writeAtomically(Array(meta.render().utf8), to: path)
        return meta
    }

    func render() -> String {
        "#\n#Written by Runnel\nversion=1\ncluster.id=\(clusterId)\nnode.id=\(nodeId)\ndirectory.id=\(directoryId)\n"
    }

    static func parse(_ text: String, path: String) throws(StorageError) -> MetaProperties {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingSpaces
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#"), let equals = trimmed.firstIndex(of: "=") else { continue }
            values[String(trimmed[..<equals]).trimmingSpaces] = String(trimmed[trimmed.index(after: equals)...])
                .trimmingSpaces
        }
        guard values["version"] == "1" else {
            throw .corruptCheckpoint(path: path, reason: "version is \(values["version"] ?? "missing"), expected 1")
        }
        guard let clusterId = values["cluster.id"], !clusterId.isEmpty else {
            throw .corruptCheckpoint(path: path, reason: "cluster.id missing")
        }
        guard let nodeText = values["node.id"], let nodeId = Int32(nodeText) else {
            throw .corruptCheckpoint(path: path, reason: "node.id missing or not a number")
        }
        return MetaProperties(clusterId: clusterId, nodeId: nodeId, directoryId: values["directory.id"] ?? "")
    }

    /// A random 128-bit id in Kafka's text form: 22 characters of URL-safe base64 without padding.
    static func randomUuidString() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40  // version 4, as java.util.UUID.randomUUID
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var output = ""
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var value: UInt32 = 0
            for (position, byte) in chunk.enumerated() { value |= UInt32(byte) << (16 - 8 * UInt32(position)) }
            let characters = chunk.count + 1
            for position in 0..<characters { output.append(alphabet[Int((value >> (18 - 6 * UInt32(position))) & 0x3F)]) }
            index += 3
        }
        return output
    }
}
