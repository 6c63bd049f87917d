import Logging
import NIOCore
import RunnelProtocol

/// Everything a handler sees about one request besides its body.
struct RequestContext: Sendable {
    var header: RequestHeaderInfo
    /// The connection's event loop: futures a handler returns complete here or are hopped here.
    var eventLoop: any EventLoop
    var logger: Logger
    /// Completes when the client's connection closes (a parked long poll then stops waiting).
    var connectionClosed: EventLoopFuture<Void>
    /// The client's IP address as Kafka reports it in DescribeGroups ("/127.0.0.1"); "" when unknown.
    var clientHost: String = ""

    var version: Int16 { header.apiVersion }
}
