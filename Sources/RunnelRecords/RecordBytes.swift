public import NIOCore

/// Byte containers the builder can copy into a batch without an intermediate allocation.
public protocol RecordBytes {
    /// Number of bytes.
    var recordByteCount: Int { get }
    /// Appends the bytes at the writer index of `buffer`.
    func writeRecordBytes(to buffer: inout ByteBuffer)
}

extension Array: RecordBytes where Element == UInt8 {
    @inlinable public var recordByteCount: Int { count }
    @inlinable public func writeRecordBytes(to buffer: inout ByteBuffer) { buffer.writeBytes(self) }
}

extension ArraySlice: RecordBytes where Element == UInt8 {
    @inlinable public var recordByteCount: Int { count }
    @inlinable public func writeRecordBytes(to buffer: inout ByteBuffer) { buffer.writeBytes(self) }
}

extension ByteBuffer: RecordBytes {
    /// The readable bytes.
    @inlinable public var recordByteCount: Int { readableBytes }
    @inlinable public func writeRecordBytes(to buffer: inout ByteBuffer) { buffer.writeImmutableBuffer(self) }
}
