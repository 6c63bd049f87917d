import Logging
import NIOCore
import RunnelProtocol

/// Routes one framed request to its handler (KAFKA-FORMATS §1.6–1.9).
///
/// - Unknown API key, or a version outside the accepted range → close the connection, no response.
/// - Except ApiVersions with a too-high version → a v0 response with UNSUPPORTED_VERSION (35) listing
///   ApiVersions' own range, so the client can retry.
/// - Malformed header or body → close the connection.
final class RequestDispatcher: Sendable {
    private let handlers: [ApiKey: AnyApiHandler]

    init(handlers: [AnyApiHandler]) {
        var table: [ApiKey: AnyApiHandler] = [:]
        for handler in handlers { table[handler.apiKey] = handler }
        self.handlers = table
    }

    /// The advertised (key, min, max) of every served API, sorted by key.
    var advertised: [(apiKey: ApiKey, versions: ClosedRange<Int16>)] {
        handlers.values.map { ($0.apiKey, $0.advertisedVersions) }.sorted { $0.apiKey.rawValue < $1.apiKey.rawValue }
    }

    /// Whether `api` has a handler (metrics count only served APIs).
    func serves(_ api: ApiKey) -> Bool { handlers[api] != nil }

    /// - Parameter connectionClosed: the connection's close future.
    /// - Parameter clientHost: the peer's address as Kafka prints it ("/127.0.0.1"), "" when unknown.
    func handle(
        frame: ByteBuffer, eventLoop: any EventLoop, connectionClosed: EventLoopFuture<Void>, logger: Logger,
        clientHost: String = ""
    ) -> EventLoopFuture<RequestOutcome>
    {
        let start = frame.readerIndex
        guard let rawKey = frame.getInteger(at: start, as: Int16.self),
            let version = frame.getInteger(at: start + 2, as: Int16.self),
            let correlationId = frame.getInteger(at: start + 4, as: Int32.self)
        else {
            return eventLoop.makeSucceededFuture(.close(reason: "request shorter than a header"))
        }
        guard let apiKey = ApiKey(rawValue: rawKey), let handler = handlers[apiKey] else {
            return eventLoop.makeSucceededFuture(.close(reason: "unsupported api key \(rawKey)"))
        }
        guard handler.acceptedVersions.contains(version) else {
            if apiKey == .apiVersions, version > handler.acceptedVersions.upperBound {
                return eventLoop.makeSucceededFuture(
                    .respond(unsupportedApiVersionsResponse(correlationId: correlationId, range: handler.advertisedVersions)))
            }
            return eventLoop.makeSucceededFuture(.close(reason: "unsupported \(apiKey) version \(version)"))
        }
        var reader = MessageReader(frame)
        let flexible = apiKey.flexibleVersionsStart.map { version >= $0 } ?? false
        let header: RequestHeaderInfo
        do {
            header = try RequestHeaderInfo(apiKey: apiKey, reader: &reader, flexible: flexible)
        } catch {
            return eventLoop.makeSucceededFuture(.close(reason: "malformed request header: \(error)"))
        }
        var requestLogger = logger
        requestLogger[metadataKey: "api"] = "\(apiKey.name)v\(version)"
        requestLogger[metadataKey: "correlation.id"] = "\(correlationId)"
        let context = RequestContext(
            header: header, eventLoop: eventLoop, logger: requestLogger, connectionClosed: connectionClosed,
            clientHost: clientHost)
        return handler.run(reader, context)
    }

    /// ApiVersions v0 body with UNSUPPORTED_VERSION and ApiVersions' range (§1.9), header v0.
    private func unsupportedApiVersionsResponse(correlationId: Int32, range: ClosedRange<Int16>) -> [ResponsePart] {
        let response = ApiVersionsResponse(
            errorCode: ErrorCode.unsupportedVersion.rawValue,
            apiKeys: [
                .init(apiKey: ApiKey.apiVersions.rawValue, minVersion: range.lowerBound, maxVersion: range.upperBound)
            ])
        var writer = MessageWriter(initialCapacity: 32)
        writer.writeInt32(correlationId)
        response.write(to: &writer, version: 0)
        return writer.finish().map { .bytes($0) }
    }
}
