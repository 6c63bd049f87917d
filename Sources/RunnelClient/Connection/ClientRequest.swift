internal import NIOCore
internal import RunnelProtocol

/// One request handed to ``ConnectionHandler``: the encoded frame plus what is needed to match and decode its
/// response. `promise` receives the response *body* (the bytes after the response header), or an empty buffer
/// once written when no response is expected (Produce with acks=0).
struct ClientRequest {
    let frame: OutboundFrame
    let correlationId: Int32
    let apiKey: ApiKey
    let version: Int16
    let expectsResponse: Bool
    /// Failing the promise after this many ms without a response.
    let timeoutMs: Int64
    let promise: EventLoopPromise<ByteBuffer>
}
