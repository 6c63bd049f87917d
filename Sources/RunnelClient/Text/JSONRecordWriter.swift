public import NIOCore

/// Writes a consumed record as one JSON object (no trailing newline):
/// `{"topic":"t","partition":0,"offset":5,"timestamp":1700000000000,"key":"k","value":"v","headers":{"h":"x"}}`.
///
/// Key, value and header values are UTF-8 text with JSON escapes (invalid UTF-8 becomes U+FFFD); null stays
/// `null`. The object is what `runnel produce --json` reads back (topic, partition and offset are ignored
/// there). Duplicate header keys keep their order in the object, as JSON objects may repeat keys.
public enum JSONRecordWriter {
    public static func write(_ record: ConsumerRecord, to output: inout ByteBuffer) {
        output.writeStaticString("{\"topic\":")
        writeString(record.topic, to: &output)
        output.writeStaticString(",\"partition\":")
        RecordFormatter.writeDecimal(Int64(record.partition), to: &output)
        output.writeStaticString(",\"offset\":")
        RecordFormatter.writeDecimal(record.offset, to: &output)
        output.writeStaticString(",\"timestamp\":")
        RecordFormatter.writeDecimal(record.timestamp, to: &output)
        output.writeStaticString(",\"key\":")
        writeBytes(record.key, to: &output)
        output.writeStaticString(",\"value\":")
        writeBytes(record.value, to: &output)
        output.writeStaticString(",\"headers\":{")
        for (index, header) in record.headers.enumerated() {
            if index > 0 { output.writeInteger(UInt8(ascii: ",")) }
            writeString(header.key, to: &output)
            output.writeInteger(UInt8(ascii: ":"))
            if let value = header.value {
                writeString(String(decoding: value, as: UTF8.self), to: &output)
            } else {
                output.writeStaticString("null")
            }
        }
        output.writeStaticString("}}")
    }

    static func writeBytes(_ bytes: ByteBuffer?, to output: inout ByteBuffer) {
        guard let bytes else {
            output.writeStaticString("null")
            return
        }
        writeString(String(decoding: bytes.readableBytesView, as: UTF8.self), to: &output)
    }

    /// A JSON string literal: `"` and `\` escaped, control characters as `\n`, `\t`, ... or `\u00XX`.
    public static func writeString(_ text: String, to output: inout ByteBuffer) {
        output.writeInteger(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.writeStaticString("\\\"")
            case UInt8(ascii: "\\"): output.writeStaticString("\\\\")
            case 0x0A: output.writeStaticString("\\n")
            case 0x0D: output.writeStaticString("\\r")
            case 0x09: output.writeStaticString("\\t")
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                output.writeStaticString("\\u00")
                output.writeInteger(hex[Int(byte >> 4)])
                output.writeInteger(hex[Int(byte & 0x0F)])
            default: output.writeInteger(byte)
            }
        }
        output.writeInteger(UInt8(ascii: "\""))
    }
}
