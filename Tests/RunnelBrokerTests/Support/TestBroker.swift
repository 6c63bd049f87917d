import Logging
import RunnelBroker

/// A broker on 127.0.0.1:0 over a temporary (or given) data directory, for integration tests.
struct TestBroker {
    let broker: Broker
    let port: Int

    static func start(directory: String, overrides: [(String, String)] = []) async throws -> TestBroker {
        var logger = Logger(label: "runnel-test")
        logger.logLevel = .warning
        let configuration = try BrokerConfiguration(
            overrides: [("listeners", "PLAINTEXT://127.0.0.1:0"), ("log.dirs", directory)] + overrides)
        let broker = Broker(configuration: configuration, logger: logger)
        let bound = try await broker.start()
        return TestBroker(broker: broker, port: bound[0].port)
    }

    func stop() async { await broker.shutdown() }
}
