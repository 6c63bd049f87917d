import NIOCore
import RunnelProtocol

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A minimal blocking Kafka client over a POSIX socket, for integration tests: frames requests made with the
/// generated message types and decodes responses. Every read has a receive timeout so a hung broker fails the
/// test instead of hanging it.
final class TestKafkaClient {
    enum ClientError: Error { case connect(Int32), write(Int32), read(Int32), closed, unexpectedCorrelation(Int32) }

    private let fd: Int32
    private var nextCorrelationId: Int32 = 1

    init(port: Int, receiveTimeoutSeconds: Int = 20) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClientError.connect(errno) }
        var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw ClientError.connect(errno)
        }
    }

    deinit { close(fd) }

    /// Writes raw bytes.
    func sendRaw(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { throw ClientError.write(errno) }
            sent += count
        }
    }

    /// Frames and sends a request; returns its correlation id.
    @discardableResult
    func send<Request: KafkaRequestMessage>(_ request: Request, version: Int16, apiKeyOverride: Int16? = nil) throws -> Int32 {
        let correlationId = nextCorrelationId
        nextCorrelationId += 1
        var writer = MessageWriter()
        writer.writeInt16(apiKeyOverride ?? Request.apiKey.rawValue)
        writer.writeInt16(version)
        writer.writeInt32(correlationId)
        writer.writeNullableString("runnel-test", compact: false)
        if Request.isFlexible(version: version) { writer.writeTaggedFields([]) }
        request.write(to: &writer, version: version)
        var body = ByteBuffer()
        for part in writer.finish() { var copy = part; body.writeBuffer(&copy) }
        var frame = ByteBuffer()
        frame.writeInteger(Int32(body.readableBytes))
        frame.writeBuffer(&body)
        try sendRaw(Array(frame.readableBytesView))
        return correlationId
    }

    /// Reads one response frame (without its size prefix); nil when the broker closed the connection.
    func receiveFrame() throws -> ByteBuffer? {
        guard let sizeBytes = try readExactly(4) else { return nil }
        let size = Int(sizeBytes.withUnsafeBytes { $0.loadUnaligned(as: Int32.self).bigEndian })
        guard let body = try readExactly(size) else { throw ClientError.closed }
        return ByteBuffer(bytes: body)
    }

    /// Reads a response to `Request` at `version`, checking the correlation id.
    func receive<Request: KafkaRequestMessage>(_: Request.Type, version: Int16, correlationId: Int32) throws
        -> Request.Response
    {
        guard let frame = try receiveFrame() else { throw ClientError.closed }
        var reader = MessageReader(frame)
        let received = try reader.readInt32()
        guard received == correlationId else { throw ClientError.unexpectedCorrelation(received) }
        if Request.Response.isFlexible(version: version), Request.apiKey != .apiVersions {
            _ = try reader.readUnknownTaggedFields()
        }
        return try Request.Response(from: &reader, version: version)
    }

    /// Sends a request and waits for its response.
    func request<Request: KafkaRequestMessage>(_ request: Request, version: Int16) throws -> Request.Response {
        let id = try send(request, version: version)
        return try receive(Request.self, version: version, correlationId: id)
    }

    /// True when the broker closed the connection (EOF) before sending anything.
    func isClosedByPeer() throws -> Bool {
        var byte: UInt8 = 0
        let count = recv(fd, &byte, 1, 0)
        if count == 0 { return true }
        if count < 0, errno == ECONNRESET { return true }
        if count < 0 { throw ClientError.read(errno) }
        return false
    }

    private func readExactly(_ count: Int) throws -> [UInt8]? {
        var result = [UInt8](repeating: 0, count: count)
        var received = 0
        while received < count {
            let n = result.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + received, count - received, 0) }
            if n == 0 {
                if received == 0 { return nil }
                throw ClientError.closed
            }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == ECONNRESET { return nil }
                throw ClientError.read(errno)
            }
            received += n
        }
        return result
    }
}
