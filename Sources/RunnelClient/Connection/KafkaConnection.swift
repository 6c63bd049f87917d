public import NIOCore
internal import NIOPosix
public import RunnelProtocol
internal import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One TCP connection to a Kafka broker, shared by any number of tasks.
///
/// Requests are pipelined: each gets a fresh correlation id, is written at once, and its response is matched by
/// id. The broker processes one connection's requests in order, so requests written in order by one caller (the
/// producer's batches) are applied in that order. API versions are negotiated once at connect time
/// (``ApiVersionTable``). Every request has a timeout; a connection that fails fails all its requests.
///
/// `Sendable`: the channel is thread-safe, the correlation counter is an `Atomic`, everything else is immutable.
public final class KafkaConnection: Sendable {
    /// Default connect timeout, ms.
    public static let defaultConnectTimeoutMs: Int64 = 10_000
    /// Default request timeout, ms (Kafka's `request.timeout.ms` is 30 s).
    public static let defaultRequestTimeoutMs: Int64 = 30_000

    public let address: BrokerAddress
    public let clientId: String
    /// Time limit for a response, ms (long-poll fetches add their max wait).
    public let requestTimeoutMs: Int64
    /// The negotiated versions.
    public let apiVersions: ApiVersionTable
    private let channel: any Channel
    private let nextCorrelationId: Atomic<Int32>

    private init(
        address: BrokerAddress, clientId: String, requestTimeoutMs: Int64, apiVersions: ApiVersionTable,
        channel: any Channel, nextCorrelationId: Int32
    ) {
        self.address = address
        self.clientId = clientId
        self.requestTimeoutMs = requestTimeoutMs
        self.apiVersions = apiVersions
        self.channel = channel
        self.nextCorrelationId = Atomic(nextCorrelationId)
    }

    /// Connects and negotiates API versions.
    /// - Throws: ``ClientError/brokerNotReachable(host:port:reason:)`` when the TCP connect fails, or the error of
    ///   the ApiVersions exchange.
    public static func connect(
        to address: BrokerAddress, clientId: String = "runnel",
        connectTimeoutMs: Int64 = defaultConnectTimeoutMs, requestTimeoutMs: Int64 = defaultRequestTimeoutMs,
        group: (any EventLoopGroup)? = nil
    ) async throws(ClientError) -> KafkaConnection {
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group ?? MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.milliseconds(connectTimeoutMs))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers(
                            ByteToMessageHandler(KafkaFrameDecoder()), KafkaFrameEncoder(),
                            ConnectionHandler(address: address))
                    }
                }
                .connect(host: address.host, port: address.port).get()
        } catch {
            throw .brokerNotReachable(host: address.host, port: address.port, reason: Self.describeConnectError(error))
        }
        do {
            let versions = try await negotiate(channel: channel, clientId: clientId, timeoutMs: requestTimeoutMs)
            return KafkaConnection(
                address: address, clientId: clientId, requestTimeoutMs: requestTimeoutMs, apiVersions: versions,
                channel: channel, nextCorrelationId: 3)
        } catch {
            try? await channel.close()
            throw error
        }
    }

    /// ApiVersions v3, falling back to v0 when the broker answers UNSUPPORTED_VERSION (KIP-511).
    private static func negotiate(channel: any Channel, clientId: String, timeoutMs: Int64) async throws(ClientError)
        -> ApiVersionTable
    {
        let request = ApiVersionsRequest(clientSoftwareName: "runnel", clientSoftwareVersion: "0.1.0")
        for (correlationId, version) in [(Int32(1), Int16(3)), (2, 0)] {
            let body = try await exchange(
                channel: channel,
                frame: request.frame(version: version, correlationId: correlationId, clientId: clientId),
                correlationId: correlationId, apiKey: .apiVersions, version: version, expectsResponse: true,
                timeoutMs: timeoutMs)
            // ApiVersions errors are written in a v0 body whatever the request version; the error code leads both.
            if body.getInteger(at: body.readerIndex, as: Int16.self) == KafkaErrorCode.unsupportedVersion.rawValue,
                version > 0
            {
                continue
            }
            let response: ApiVersionsResponse
            do {
                response = try ApiVersionsResponse(from: body, version: version)
            } catch {
                throw .malformedResponse(api: "ApiVersions", reason: "\(error)")
            }
            guard response.errorCode == 0 else {
                throw .broker(
                    operation: "ApiVersions", code: KafkaErrorCode(rawValue: response.errorCode), message: nil)
            }
            return ApiVersionTable(response: response)
        }
        throw .unsupportedApi(api: "ApiVersions")
    }

    private static func exchange(
        channel: any Channel, frame: OutboundFrame, correlationId: Int32, apiKey: ApiKey, version: Int16,
        expectsResponse: Bool, timeoutMs: Int64
    ) async throws(ClientError) -> ByteBuffer {
        let promise = channel.eventLoop.makePromise(of: ByteBuffer.self)
        let request = ClientRequest(
            frame: frame, correlationId: correlationId, apiKey: apiKey, version: version,
            expectsResponse: expectsResponse, timeoutMs: timeoutMs, promise: promise)
        channel.writeAndFlush(request, promise: nil)
        do {
            return try await promise.futureResult.get()
        } catch let error as ClientError {
            throw error
        } catch {
            throw .connectionClosed(host: "?", port: 0, reason: "\(error)")
        }
    }

    private static func describeConnectError(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError, let first = error.connectionErrors.first {
            return describeConnectError(first.error)
        }
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        if case ChannelError.connectTimeout = error { return "connect timed out" }
        return "\(error)"
    }

    // MARK: - Requests

    /// The negotiated version of `apiKey`.
    /// - Throws: ``ClientError/unsupportedApi(api:)``.
    public func version(for apiKey: ApiKey) throws(ClientError) -> Int16 {
        guard let version = apiVersions.version(for: apiKey) else { throw .unsupportedApi(api: apiKey.name) }
        return version
    }

    /// Sends `request` at `version` (default: the negotiated one) and returns its decoded response.
    /// - Parameter extraTimeoutMs: added to the request timeout (a long-poll fetch's max wait).
    public func send<Request: KafkaRequestMessage>(
        _ request: Request, version: Int16? = nil, extraTimeoutMs: Int64 = 0
    ) async throws(ClientError) -> Request.Response {
        let chosen: Int16
        if let version { chosen = version } else { chosen = try self.version(for: Request.apiKey) }
        let body = try await Self.await(sendFuture(request, version: chosen, extraTimeoutMs: extraTimeoutMs))
        return try Self.decode(Request.Response.self, body: body, version: chosen)
    }

    /// Writes `request` now and returns a future of its response body (the bytes after the response header).
    /// Requests written by one caller reach the broker in call order. With `expectsResponse: false`
    /// (Produce acks=0) the future completes with an empty buffer once the bytes are written.
    public func sendFuture<Request: KafkaRequestMessage>(
        _ request: Request, version: Int16, expectsResponse: Bool = true, extraTimeoutMs: Int64 = 0
    ) -> EventLoopFuture<ByteBuffer> {
        let correlationId = nextCorrelationId.wrappingAdd(1, ordering: .relaxed).oldValue
        let promise = channel.eventLoop.makePromise(of: ByteBuffer.self)
        let clientRequest = ClientRequest(
            frame: request.frame(version: version, correlationId: correlationId, clientId: clientId),
            correlationId: correlationId, apiKey: Request.apiKey, version: version, expectsResponse: expectsResponse,
            timeoutMs: requestTimeoutMs + extraTimeoutMs, promise: promise)
        // On a closed channel the pipeline's handlers may be gone, so `ConnectionHandler` never sees the request:
        // fail its promise from the write's failure (a no-op when the handler already completed it).
        let writePromise = channel.eventLoop.makePromise(of: Void.self)
        let address = self.address
        writePromise.futureResult.whenFailure { error in
            promise.fail(
                ClientError.connectionClosed(host: address.host, port: address.port, reason: "write failed: \(error)"))
        }
        channel.writeAndFlush(clientRequest, promise: writePromise)
        return promise.futureResult
    }

    /// Awaits a future from ``sendFuture(_:version:expectsResponse:extraTimeoutMs:)``, typing its error.
    public static func await(_ future: EventLoopFuture<ByteBuffer>) async throws(ClientError) -> ByteBuffer {
        do {
            return try await future.get()
        } catch let error as ClientError {
            throw error
        } catch {
            throw .connectionClosed(host: "?", port: 0, reason: "\(error)")
        }
    }

    /// Decodes a response body at `version`.
    public static func decode<Response: KafkaResponseMessage>(
        _ type: Response.Type, body: ByteBuffer, version: Int16
    ) throws(ClientError) -> Response {
        do {
            return try Response(from: body, version: version)
        } catch {
            throw .malformedResponse(api: Response.apiKey.name, reason: "\(error)")
        }
    }

    /// Whether the connection is still open.
    public var isActive: Bool { channel.isActive }

    /// Closes the connection; outstanding requests fail with ``ClientError/connectionClosed(host:port:reason:)``.
    public func close() async {
        try? await channel.close()
    }
}
