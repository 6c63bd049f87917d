public import NIOCore

/// One record inside a record batch v2 (KAFKA-FORMATS §2.4), holding the batch-relative deltas as on the wire.
///
/// | field | type | notes |
/// |---|---|---|
/// | length | varint | bytes of the rest of the record |
/// | attributes | int8 | unused, written 0 |
/// | timestampDelta | varlong | record timestamp − batch baseTimestamp (ms) |
/// | offsetDelta | varint | record offset − batch baseOffset |
/// | keyLength, key | varint, bytes | -1 = null key |
/// | valueLength, value | varint, bytes | -1 = null value (tombstone) |
/// | headersCount, headers | varint, `RecordHeader`s | >= 0 |
///
/// Decoded keys and values are slices of the (possibly decompressed) batch bytes: no copy is made.
/// The absolute offset and timestamp depend on the batch header: see `offset(in:)` and `timestamp(in:)`.
public struct Record: Sendable, Hashable {
    /// Record offset − batch baseOffset.
    public var offsetDelta: Int32
    /// Record timestamp − batch baseTimestamp, in ms.
    public var timestampDelta: Int64
    /// The key, nil for a null key.
    public var key: ByteBuffer?
    /// The value, nil for a null value (a tombstone in a compacted topic).
    public var value: ByteBuffer?
    public var headers: [RecordHeader]
    /// The record-level attributes byte (unused by Kafka; 0 when written).
    public var attributes: Int8

    public init(
        offsetDelta: Int32, timestampDelta: Int64, key: ByteBuffer?, value: ByteBuffer?,
        headers: [RecordHeader] = [], attributes: Int8 = 0
    ) {
        self.offsetDelta = offsetDelta
        self.timestampDelta = timestampDelta
        self.key = key
        self.value = value
        self.headers = headers
        self.attributes = attributes
    }

    /// The key's bytes (a copy), nil for a null key.
    public var keyBytes: [UInt8]? { key.map { Array($0.readableBytesView) } }
    /// The value's bytes (a copy), nil for a null value.
    public var valueBytes: [UInt8]? { value.map { Array($0.readableBytesView) } }
    /// Whether the value is null (a delete marker for compaction).
    public var isTombstone: Bool { value == nil }

    /// The absolute offset: `baseOffset + offsetDelta`.
    public func offset(in header: RecordBatchHeader) -> Int64 {
        header.baseOffset &+ Int64(offsetDelta)
    }

    /// The absolute timestamp in ms: the batch `maxTimestamp` for LOG_APPEND_TIME batches, else
    /// `baseTimestamp + timestampDelta` (KAFKA-FORMATS §2.2).
    public func timestamp(in header: RecordBatchHeader) -> Int64 {
        header.attributes.isLogAppendTime ? header.maxTimestamp : header.baseTimestamp &+ timestampDelta
    }

    // MARK: - Encoding

    /// Bytes of the record body (everything after the length varint).
    public var bodySize: Int {
        Self.bodySize(
            offsetDelta: offsetDelta, timestampDelta: timestampDelta, keyCount: key?.readableBytes,
            valueCount: value?.readableBytes, headers: headers)
    }

    /// Total encoded bytes, length varint included.
    public var encodedSize: Int {
        let body = bodySize
        return Varint.size(of: Int32(truncatingIfNeeded: body)) + body
    }

    /// Appends the encoded record at the writer index.
    /// - Precondition: the key, value and each header are smaller than 2 GiB (true of anything that fits a batch).
    public func write(to buffer: inout ByteBuffer) {
        Self.write(
            offsetDelta: offsetDelta, timestampDelta: timestampDelta, key: key, value: value, headers: headers,
            attributes: attributes, to: &buffer)
    }

    static func bodySize(
        offsetDelta: Int32, timestampDelta: Int64, keyCount: Int?, valueCount: Int?, headers: [RecordHeader]
    ) -> Int {
        var size = 1 + Varint.size(of: timestampDelta) + Varint.size(of: offsetDelta)
        size += Self.lengthPrefixedSize(keyCount) + Self.lengthPrefixedSize(valueCount)
        size += Varint.size(of: Int32(truncatingIfNeeded: headers.count))
        for header in headers { size += header.encodedSize }
        return size
    }

    static func lengthPrefixedSize(_ count: Int?) -> Int {
        guard let count else { return 1 }  // varint(-1)
        return Varint.size(of: Int32(truncatingIfNeeded: count)) + count
    }

    /// Writes one record (length prefix included) without building a `Record`: the builder's hot path.
    static func write<Key: RecordBytes, Value: RecordBytes>(
        offsetDelta: Int32, timestampDelta: Int64, key: Key?, value: Value?, headers: [RecordHeader],
        attributes: Int8, to buffer: inout ByteBuffer
    ) {
        let keyCount = key?.recordByteCount
        let valueCount = value?.recordByteCount
        precondition((keyCount ?? 0) <= Int32.max && (valueCount ?? 0) <= Int32.max, "record key/value over 2 GiB")
        let body = bodySize(
            offsetDelta: offsetDelta, timestampDelta: timestampDelta, keyCount: keyCount, valueCount: valueCount,
            headers: headers)
        precondition(body <= Int32.max, "record over 2 GiB")
        buffer.writeVarint(Int32(truncatingIfNeeded: body))
        buffer.writeInteger(attributes)
        buffer.writeVarlong(timestampDelta)
        buffer.writeVarint(offsetDelta)
        if let key {
            buffer.writeVarint(Int32(truncatingIfNeeded: key.recordByteCount))
            key.writeRecordBytes(to: &buffer)
        } else {
            buffer.writeVarint(-1)
        }
        if let value {
            buffer.writeVarint(Int32(truncatingIfNeeded: value.recordByteCount))
            value.writeRecordBytes(to: &buffer)
        } else {
            buffer.writeVarint(-1)
        }
        buffer.writeVarint(Int32(truncatingIfNeeded: headers.count))
        for header in headers {
            let keyBytes = header.key.utf8.count
            precondition(keyBytes <= Int32.max && (header.value?.count ?? 0) <= Int32.max, "header over 2 GiB")
            buffer.writeVarint(Int32(truncatingIfNeeded: keyBytes))
            buffer.writeString(header.key)
            if let headerValue = header.value {
                buffer.writeVarint(Int32(truncatingIfNeeded: headerValue.count))
                buffer.writeBytes(headerValue)
            } else {
                buffer.writeVarint(-1)
            }
        }
    }

    // MARK: - Decoding

    /// Reads one record (length prefix included) from `buffer`, advancing its reader index past it.
    /// Checks that the record's declared length fits the readable bytes and is consumed exactly, that lengths are
    /// >= -1 (>= 0 for header keys and the header count), and that varints are well formed.
    /// - Throws: `RecordsError.malformedVarint`, `.invalidRecord`.
    public init(decoding buffer: inout ByteBuffer) throws(RecordsError) {
        let length = try buffer.readVarint()
        guard length >= 0 else { throw .invalidRecord("negative record length \(length)") }
        guard var body = buffer.readSlice(length: Int(length)) else {
            throw .invalidRecord("record length \(length) exceeds the \(buffer.readableBytes) bytes left")
        }
        guard let attributes = body.readInteger(as: Int8.self) else {
            throw .invalidRecord("record length \(length) too short for its attributes")
        }
        let timestampDelta = try body.readVarlong()
        let offsetDelta = try body.readVarint()
        let key = try Self.readNullableBytes(from: &body, what: "key")
        let value = try Self.readNullableBytes(from: &body, what: "value")
        let headersCount = try body.readVarint()
        guard headersCount >= 0 else { throw .invalidRecord("negative headers count \(headersCount)") }
        // Each header takes at least 2 bytes: bound the count before reserving space for it.
        guard Int(headersCount) <= body.readableBytes / 2 else {
            throw .invalidRecord("headers count \(headersCount) exceeds the \(body.readableBytes) bytes left")
        }
        var headers: [RecordHeader] = []
        headers.reserveCapacity(Int(headersCount))
        for _ in 0..<headersCount {
            let keyLength = try body.readVarint()
            guard keyLength >= 0 else { throw .invalidRecord("negative header key length \(keyLength)") }
            guard let headerKey = body.readString(length: Int(keyLength)) else {
                throw .invalidRecord("header key length \(keyLength) exceeds the \(body.readableBytes) bytes left")
            }
            let valueLength = try body.readVarint()
            let headerValue: [UInt8]?
            if valueLength == -1 {
                headerValue = nil
            } else {
                guard valueLength >= 0 else { throw .invalidRecord("header value length \(valueLength)") }
                guard let bytes = body.readBytes(length: Int(valueLength)) else {
                    throw .invalidRecord(
                        "header value length \(valueLength) exceeds the \(body.readableBytes) bytes left")
                }
                headerValue = bytes
            }
            headers.append(RecordHeader(key: headerKey, value: headerValue))
        }
        guard body.readableBytes == 0 else {
            throw .invalidRecord("record length \(length) leaves \(body.readableBytes) bytes unread")
        }
        self.init(
            offsetDelta: offsetDelta, timestampDelta: timestampDelta, key: key, value: value, headers: headers,
            attributes: attributes)
    }

    private static func readNullableBytes(from body: inout ByteBuffer, what: String) throws(RecordsError)
        -> ByteBuffer?
    {
        let length = try body.readVarint()
        if length == -1 { return nil }
        guard length >= 0 else { throw .invalidRecord("\(what) length \(length)") }
        guard let slice = body.readSlice(length: Int(length)) else {
            throw .invalidRecord("\(what) length \(length) exceeds the \(body.readableBytes) bytes left")
        }
        return slice
    }
}
