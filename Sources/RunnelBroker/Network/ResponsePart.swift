public import NIOCore
public import RunnelStorage

/// One piece of a response on its way to the socket: bytes in memory, or a byte range of a segment file sent
/// with sendfile (zero-copy Fetch). A response is the concatenation of its parts.
public enum ResponsePart: Sendable {
    case bytes(ByteBuffer)
    case file(FileSlice)

    /// Length in bytes.
    public var length: Int {
        switch self {
        case let .bytes(buffer): buffer.readableBytes
        case let .file(slice): slice.length
        }
    }
}

/// What the connection does with one request once it is handled.
public enum RequestOutcome: Sendable {
    /// Send this response (header + body, without the size prefix: the connection adds it).
    case respond([ResponsePart])
    /// Send nothing (Produce with acks=0).
    case noResponse
    /// Close the connection without a response (unknown API, unsupported version, malformed request).
    case close(reason: String)
}
