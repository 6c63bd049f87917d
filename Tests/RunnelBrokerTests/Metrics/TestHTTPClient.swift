import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A blocking HTTP/1.1 client over a POSIX socket for the metrics endpoint tests: sends raw bytes and reads
/// until the server closes. Every read has a receive timeout so a hung endpoint fails the test.
struct TestHTTPClient {
    enum ClientError: Error { case connect(Int32), write(Int32), read(Int32), malformedResponse(String) }

    /// A parsed response.
    struct Response {
        var status: Int
        var headers: [String: String]  // lower-cased names
        var body: String
    }

    let port: Int

    /// `GET path` (or another `method`) with `Connection: close`.
    func request(_ method: String = "GET", _ path: String) async throws -> Response {
        let raw = try await exchange(Array("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8))
        return try Self.parse(raw)
    }

    /// Sends `bytes`, then reads everything until the server closes the connection.
    ///
    /// The blocking socket calls run on NIO's thread pool: the endpoint renders `/metrics` in a Swift task, so
    /// blocking the cooperative pool (two threads on a small machine, shared by parallel tests) could starve it.
    func exchange(_ bytes: [UInt8], receiveTimeoutSeconds: Int = 20) async throws -> [UInt8] {
        let port = self.port
        return try await NIOThreadPool.singleton.runIfActive {
            try Self.blockingExchange(port: port, bytes, receiveTimeoutSeconds: receiveTimeoutSeconds)
        }
    }

    private static func blockingExchange(port: Int, _ bytes: [UInt8], receiveTimeoutSeconds: Int) throws -> [UInt8] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClientError.connect(errno) }
        defer { close(fd) }
        var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw ClientError.connect(errno) }
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw ClientError.write(errno) }
            sent += n
        }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == ECONNRESET { break }
                throw ClientError.read(errno)
            }
            received += chunk[0..<n]
        }
        return received
    }

    /// Parses one response with a Content-Length body.
    static func parse(_ raw: [UInt8]) throws -> Response {
        let text = String(decoding: raw, as: UTF8.self)
        guard let split = text.firstRange(of: "\r\n\r\n") else { throw ClientError.malformedResponse(text) }
        let lines = text[..<split.lowerBound].split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusParts = lines.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw ClientError.malformedResponse(text) }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = String(line[line.index(after: colon)...]).trimmingCharacters(in: " ")
        }
        return Response(status: status, headers: headers, body: String(text[split.upperBound...]))
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        String(self.drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}
