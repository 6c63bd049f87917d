import Logging
import NIOCore
import RunnelProtocol

/// A handler for one Kafka API, typed by its generated request message.
///
/// Handlers run on the connection's event loop and must not block it: blocking work (fsync, directory creation)
/// goes to `BrokerContext.threadPool`, and the returned future completes when the response is ready.
protocol ApiHandler: Sendable {
    associatedtype Request: KafkaRequestMessage
    /// The versions listed in ApiVersions.
    var advertisedVersions: ClosedRange<Int16> { get }
    /// The versions served; others close the connection. Defaults to `advertisedVersions`.
    var acceptedVersions: ClosedRange<Int16> { get }
    /// Handles a decoded request; a nil response means "send nothing" (Produce acks=0).
    func handle(_ request: Request, context: RequestContext) -> EventLoopFuture<Request.Response?>
}

extension ApiHandler {
    var acceptedVersions: ClosedRange<Int16> { advertisedVersions }
}

/// A handler with its types erased, as the dispatcher stores it.
struct AnyApiHandler: Sendable {
    let apiKey: ApiKey
    let advertisedVersions: ClosedRange<Int16>
    let acceptedVersions: ClosedRange<Int16>
    /// Decodes the body from the reader (positioned after the header), handles it, encodes the outcome.
    let run: @Sendable (_ body: MessageReader, _ context: RequestContext) -> EventLoopFuture<RequestOutcome>

    init<Handler: ApiHandler>(_ handler: Handler) {
        apiKey = Handler.Request.apiKey
        advertisedVersions = handler.advertisedVersions
        acceptedVersions = handler.acceptedVersions
        run = { body, context in
            var reader = body
            let request: Handler.Request
            do {
                request = try Handler.Request(from: &reader, version: context.version)
            } catch {
                return context.eventLoop.makeSucceededFuture(.close(reason: "malformed \(Handler.Request.apiKey) body: \(error)"))
            }
            let header = context.header
            return handler.handle(request, context: context).map { response in
                guard let response else { return .noResponse }
                return .respond(ResponseEncoder.encode(response, header: header))
            }
        }
    }

    /// A handler that produces its own response parts (Fetch, for zero-copy records).
    init(
        apiKey: ApiKey, advertisedVersions: ClosedRange<Int16>, acceptedVersions: ClosedRange<Int16>? = nil,
        run: @escaping @Sendable (_ body: MessageReader, _ context: RequestContext) -> EventLoopFuture<RequestOutcome>
    ) {
        self.apiKey = apiKey
        self.advertisedVersions = advertisedVersions
        self.acceptedVersions = acceptedVersions ?? advertisedVersions
        self.run = run
    }
}
