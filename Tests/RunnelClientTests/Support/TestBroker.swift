import Logging
import RunnelBroker
import RunnelClient

/// The real broker, in process, on 127.0.0.1:0 over a temporary data directory.
final class TestBroker {
    let broker: Broker
    let port: Int
    let directory: TemporaryDirectory

    var address: BrokerAddress { BrokerAddress(host: "127.0.0.1", port: port) }
    var bootstrap: String { "127.0.0.1:\(port)" }

    private init(broker: Broker, port: Int, directory: TemporaryDirectory) {
        self.broker = broker
        self.port = port
        self.directory = directory
    }

    static func start(overrides: [(String, String)] = []) async throws -> TestBroker {
        let directory = try TemporaryDirectory()
        var logger = Logger(label: "runnel-client-test")
        logger.logLevel = .warning
        let configuration = try BrokerConfiguration(
            overrides: [("listeners", "PLAINTEXT://127.0.0.1:0"), ("log.dirs", directory.path)] + overrides)
        let broker = Broker(configuration: configuration, logger: logger)
        let bound = try await broker.start()
        return TestBroker(broker: broker, port: bound[0].port, directory: directory)
    }

    func stop() async { await broker.shutdown() }

    /// Runs `body` with a started broker and always shuts it down.
    static func with<T>(overrides: [(String, String)] = [], _ body: (TestBroker) async throws -> T) async throws -> T {
        let broker = try await start(overrides: overrides)
        do {
            let result = try await body(broker)
            await broker.stop()
            return result
        } catch {
            await broker.stop()
            throw error
        }
    }
}
