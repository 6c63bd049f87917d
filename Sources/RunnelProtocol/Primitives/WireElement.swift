/// Something that can be an element of a Kafka array (or a struct field): it knows its own wire form.
///
/// Generated structs conform; so do the primitive element types used by Kafka's schemas
/// (`[]int8`, `[]int16`, `[]int32`, `[]int64`, `[]string`, `[]uuid`). `compact` selects the flexible-version
/// encoding for strings; structs derive it from `version` themselves.
protocol WireElement {
    /// The fewest bytes one element occupies on the wire; used to reject impossible array counts early.
    static var minimumWireBytes: Int { get }
    init(wireFrom reader: inout MessageReader, version: Int16, compact: Bool) throws(ProtocolError)
    func write(wireTo writer: inout MessageWriter, version: Int16, compact: Bool)
}

extension Int8: WireElement {
    static var minimumWireBytes: Int { 1 }
    init(wireFrom reader: inout MessageReader, version: Int16, compact: Bool) throws(ProtocolError) {
        self = try reader.readInt8()
    }
    func write(wireTo writer: inout MessageWriter, version: Int16, compact: Bool) { writer.writeInt8(self) }
}

extension Int16: WireElement {
    static var minimumWireBytes: Int { 2 }
    init(wireFrom reader: inout MessageReader, version: Int16, compact: Bool) throws(ProtocolError) {
        self = try reader.readInt16()
    }
    func write(wireTo writer: inout MessageWriter, version: Int16, compact: Bool) { writer.writeInt16(self) }
}

extension Int32: WireElement {
    static var minimumWireBytes: Int { 4 }
    init(wireFrom reader: inout MessageReader, version: Int16, compact: Bool) throws(ProtocolError) {
        self = try reader.readInt32()
    }
    func write(wireTo writer: inout MessageWriter, version: Int16, compact: Bool) { writer.writeInt32(self) }
}

extension Int64: WireElement {
    static var minimumWireBytes: Int { 8 }
    init(wireFrom reader: inout MessageReader, version: Int16, compact: Bool) throws(ProtocolError) {
        self = try reader.readInt64()
    }
    func write(wireTo writer: inout MessageWriter, version: Int16, compact: Bool) { writer.writeInt64(self) }
}

extension KafkaUUID: WireElement {
    static var minimumWireBytes: Int { 16 }
    init(wireFrom reader: inout MessageReader, version: Int16, compact: Bool) throws(ProtocolError) {
        self = try reader.readUUID()
    }
    func write(wireTo writer: inout MessageWriter, version: Int16, compact: Bool) { writer.writeUUID(self) }
}

extension String: WireElement {
    static var minimumWireBytes: Int { 1 }
    init(wireFrom reader: inout MessageReader, version: Int16, compact: Bool) throws(ProtocolError) {
        self = try reader.readString(compact: compact)
    }
    func write(wireTo writer: inout MessageWriter, version: Int16, compact: Bool) {
        writer.writeString(self, compact: compact)
    }
}

/// A generated struct: it decodes and encodes itself at a message version and has an all-defaults `init()`.
protocol WireStruct: WireElement, Equatable {
    init()
    init(from reader: inout MessageReader, version: Int16) throws(ProtocolError)
    func write(to writer: inout MessageWriter, version: Int16)
}

extension WireStruct {
    /// Kafka rejects array counts above the remaining byte count, i.e. it assumes one byte per element.
    static var minimumWireBytes: Int { 1 }

    init(wireFrom reader: inout MessageReader, version: Int16, compact: Bool) throws(ProtocolError) {
        try self.init(from: &reader, version: version)
    }

    func write(wireTo writer: inout MessageWriter, version: Int16, compact: Bool) {
        write(to: &writer, version: version)
    }
}

extension MessageReader {
    /// Reads a struct-typed field that may be null. In `nullable` versions an int8 marker precedes it
    /// (-1 null, otherwise present); in other versions the struct is read directly.
    mutating func readNullableStruct<Element: WireStruct>(
        of _: Element.Type, version: Int16, nullable: Bool = true
    ) throws(ProtocolError) -> Element? {
        if nullable {
            let marker = try readInt8()
            if marker < 0 { return nil }
        }
        return try Element(from: &self, version: version)
    }
}

extension MessageWriter {
    /// Writes a struct-typed field that may be null: int8 marker (-1 / 1) in `nullable` versions; in other
    /// versions the struct is written directly (a `nil` there is written as the default struct).
    mutating func writeNullableStruct<Element: WireStruct>(_ value: Element?, version: Int16, nullable: Bool = true) {
        if nullable {
            guard let value else {
                writeInt8(-1)
                return
            }
            writeInt8(1)
            value.write(to: &self, version: version)
        } else {
            (value ?? Element()).write(to: &self, version: version)
        }
    }
}
