public import NIOCore

/// A tagged field this module's schema does not know (or a future version added), kept verbatim.
///
/// Kafka's rule (KIP-482): unknown tags are skipped by readers and re-emitted by writers, so a proxy or a
/// newer peer's extra data survives a decode/encode round trip. `data` is a slice of the original message
/// (no copy) holding exactly `size` bytes.
public struct RawTaggedField: Hashable, Sendable {
    /// The tag number (unsigned varint on the wire).
    public var tag: UInt32
    /// The field's bytes, excluding the tag and size prefixes.
    public var data: ByteBuffer

    public init(tag: UInt32, data: ByteBuffer) {
        self.tag = tag
        self.data = data
    }
}
