/// Why bytes from the network could not be turned into a Kafka protocol value.
///
/// Every decoder in this module throws only this type (typed throws), so callers can map it to a Kafka
/// error code or a connection close in one place. None of these cases is a programmer error.
public enum ProtocolError: Error, Sendable, Equatable {
    /// The message ended early: `needed` bytes were required, only `available` remained.
    case truncated(needed: Int, available: Int)
    /// A length or count prefix was negative (and not the `-1` null marker where null is allowed).
    case negativeLength(Int)
    /// A length prefix claims more bytes than remain in the message (checked before allocating).
    case lengthExceedsRemaining(length: Int, remaining: Int)
    /// A string is longer than Kafka's 32767-byte limit.
    case stringTooLong(length: Int)
    /// An unsigned varint did not terminate within 5 bytes (32-bit) or 10 bytes (64-bit).
    case invalidVarint
    /// A null (`-1` / compact `0`) was read where the schema forbids null at this version.
    case unexpectedNull
    /// Tagged fields were not in strictly increasing tag order (Kafka rejects repeats and reordering).
    case taggedFieldsOutOfOrder(previous: UInt32, tag: UInt32)
    /// The API key in a request header is not one this module knows.
    case unknownApiKey(Int16)
    /// The version is outside the message's `validVersions`.
    case unsupportedVersion(apiKey: Int16, version: Int16)
    /// A frame's int32 size prefix was negative.
    case negativeFrameSize(Int32)
    /// A frame's int32 size prefix exceeded the configured maximum (`socket.request.max.bytes`).
    case frameTooLarge(size: Int32, maximum: Int)
}
