import ArgumentParser
import NIOCore
import RunnelClient

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `--bootstrap-server`, shared by the client commands (produce, consume, topics).
struct ConnectionOptions: ParsableArguments {
    static let defaultServer = "127.0.0.1:9092"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Broker address HOST:PORT (default: $RUNNEL_BOOTSTRAP_SERVER, else \(defaultServer)).",
            valueName: "host:port"))
    var bootstrapServer: String?

    /// The option, else the environment, else the default.
    var server: String {
        if let bootstrapServer { return bootstrapServer }
        if let env = getenv("RUNNEL_BOOTSTRAP_SERVER"), let text = String(validatingCString: env), !text.isEmpty {
            return text
        }
        return Self.defaultServer
    }

    func address() throws -> BrokerAddress {
        do {
            return try BrokerAddress(parsing: server)
        } catch {
            throw ValidationError(error.description)
        }
    }
}

/// Parses repeatable `key=value` options.
func parseKeyValues(_ items: [String], option: String) throws -> [(String, String)] {
    try items.map { item in
        guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
            throw ValidationError("\(option) expects key=value, got '\(item)'")
        }
        return (String(item[..<equals]), String(item[item.index(after: equals)...]))
    }
}

/// Writing to the standard streams without buffering surprises: whole buffers with write(2).
enum Terminal {
    /// Writes every readable byte of `buffer` to `fd`, retrying short writes and EINTR.
    /// - Returns: false if the stream is closed (EPIPE) or failed.
    @discardableResult
    static func write(_ buffer: ByteBuffer, to fd: Int32) -> Bool {
        buffer.withUnsafeReadableBytes { writeAll($0, to: fd) }
    }

    @discardableResult
    static func write(_ bytes: [UInt8], to fd: Int32) -> Bool {
        bytes.withUnsafeBytes { writeAll($0, to: fd) }
    }

    private static func writeAll(_ raw: UnsafeRawBufferPointer, to fd: Int32) -> Bool {
        guard let base = raw.baseAddress else { return true }
        var offset = 0
        while offset < raw.count {
            #if canImport(Glibc)
                let written = Glibc.write(fd, base + offset, raw.count - offset)
            #else
                let written = Darwin.write(fd, base + offset, raw.count - offset)
            #endif
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }

    static func standardError(_ text: String) {
        write(Array(text.utf8), to: 2)
    }

    static var standardErrorIsTerminal: Bool { isatty(2) == 1 }

    /// Prints `runnel: error: MESSAGE` to stderr.
    static func error(_ message: String) {
        standardError("runnel: error: \(message)\n")
    }
}

/// Runs a client operation, turning a `ClientError` into a clear message on stderr and exit status 1.
func reportingClientErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as ClientError {
        Terminal.error(error.description)
        throw ExitCode.failure
    }
}

/// Runs `body` with an admin client connected to `address`, closing it afterwards.
func withAdmin<T>(_ address: BrokerAddress, _ body: (KafkaAdmin) async throws -> T) async throws -> T {
    let admin = try await KafkaAdmin.connect(to: address)
    do {
        let result = try await body(admin)
        await admin.close()
        return result
    } catch {
        await admin.close()
        throw error
    }
}
