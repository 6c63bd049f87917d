internal import Foundation
public import NIOCore
public import RunnelRecords

/// Parses one `runnel produce --json` line: `{"key":..,"value":..,"headers":{..},"timestamp":..,"partition":..}`.
/// Every field is optional. Strings are taken as UTF-8; other JSON values (numbers, objects) are written as
/// their JSON text; `null` is a null key/value. Header values may be strings or null.
public enum JSONRecordParser {
    public struct Parsed: Sendable {
        public var key: ByteBuffer?
        public var value: ByteBuffer?
        public var headers: [RecordHeader]
        public var timestamp: Int64?
        public var partition: Int32?
    }

    /// - Throws: ``ClientError/invalidArgument(_:)`` describing what is wrong with the line.
    public static func parse(_ line: ByteBuffer) throws(ClientError) -> Parsed {
        let object: [String: Any]
        do {
            let data = Data(line.readableBytesView)
            guard
                let parsed = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
                    as? [String: Any]
            else { throw ClientError.invalidArgument("expected a JSON object") }
            object = parsed
        } catch let error as ClientError {
            throw error
        } catch {
            throw .invalidArgument("invalid JSON: \(error.localizedDescription)")
        }
        var result = Parsed(key: nil, value: nil, headers: [], timestamp: nil, partition: nil)
        result.key = try bytes(object["key"], field: "key")
        result.value = try bytes(object["value"], field: "value")
        if let headers = object["headers"], !(headers is NSNull) {
            guard let dictionary = headers as? [String: Any] else {
                throw .invalidArgument("\"headers\" must be an object of strings")
            }
            for name in dictionary.keys.sorted() {
                let value = dictionary[name]
                if value == nil || value is NSNull {
                    result.headers.append(RecordHeader(key: name, value: nil))
                } else if let text = value as? String {
                    result.headers.append(RecordHeader(key: name, utf8Value: text))
                } else {
                    throw .invalidArgument("header \"\(name)\" must be a string or null")
                }
            }
        }
        if let timestamp = object["timestamp"], !(timestamp is NSNull) {
            guard let number = timestamp as? NSNumber, let ms = Int64(exactly: number.doubleValue), ms >= 0 else {
                throw .invalidArgument("\"timestamp\" must be a non-negative integer (ms since the epoch)")
            }
            result.timestamp = ms
        }
        if let partition = object["partition"], !(partition is NSNull) {
            guard let number = partition as? NSNumber, let index = Int32(exactly: number.doubleValue), index >= 0 else {
                throw .invalidArgument("\"partition\" must be a non-negative integer")
            }
            result.partition = index
        }
        return result
    }

    private static func bytes(_ value: Any?, field: String) throws(ClientError) -> ByteBuffer? {
        guard let value, !(value is NSNull) else { return nil }
        if let text = value as? String { return ByteBuffer(string: text) }
        do {
            let data = try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys])
            return ByteBuffer(bytes: data)
        } catch {
            throw .invalidArgument("\"\(field)\" cannot be encoded: \(error.localizedDescription)")
        }
    }
}
