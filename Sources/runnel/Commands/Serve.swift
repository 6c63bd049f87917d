import ArgumentParser
import Dispatch
import Logging
import RunnelBroker

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension Runnel {
    /// `runnel serve`: runs the broker until SIGTERM/SIGINT, then shuts down gracefully.
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the Kafka-compatible broker.",
            discussion: """
                Settings use Kafka's key names: listeners, log.dirs, num.partitions,
                log.segment.bytes, log.retention.hours, log.cleanup.policy,
                message.max.bytes, auto.create.topics.enable, ...
                Precedence, highest first: --listeners/--log-dirs/--override flags,
                RUNNEL_* environment variables (RUNNEL_LOG_DIRS sets log.dirs:
                upper-case, dots become underscores), the --config file, built-in
                defaults (listeners=PLAINTEXT://127.0.0.1:9092, log.dirs=./data/runnel).
                Unknown keys are reported as a warning, or rejected with --strict-config.

                Once a listener accepts connections, one line per listener goes to standard
                output, then one for the metrics endpoint (metrics.listener, default
                127.0.0.1:9644; empty or none disables it):
                  runnel: listening on 127.0.0.1:9092
                  runnel: metrics on http://127.0.0.1:9644/metrics
                Logs go to standard error. SIGTERM or SIGINT stop accepting, finish
                in-flight requests, flush, and write the clean-shutdown marker.

                Examples:
                  runnel serve
                  runnel serve --config config/server.properties
                  runnel serve --listeners PLAINTEXT://0.0.0.0:9092 --log-dirs /srv/runnel
                  runnel serve --override listeners=PLAINTEXT://127.0.0.1:0 \\
                    --log-dirs /tmp/runnel-test
                  runnel serve --override num.partitions=3 --override log.retention.hours=24
                  RUNNEL_LOG_DIRS=/data runnel serve --strict-config
                """
        )

        @Option(name: .long, help: ArgumentHelp("A Kafka-style .properties file.", valueName: "file"))
        var config: String?

        @Option(name: .long, help: ArgumentHelp("Listeners (sets 'listeners'), e.g. PLAINTEXT://127.0.0.1:9092.", valueName: "list"))
        var listeners: String?

        @Option(name: .long, help: ArgumentHelp("The data directory (sets 'log.dirs').", valueName: "dir"))
        var logDirs: String?

        @Option(
            name: .long,
            help: ArgumentHelp("Set a config key; repeatable, e.g. --override num.partitions=3.", valueName: "key=value"))
        var override: [String] = []

        @Flag(name: .long, help: "Treat unknown config keys as an error.")
        var strictConfig = false

        @Option(name: .long, help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error.", valueName: "level"))
        var logLevel: String = "info"

        func validate() throws {
            for item in override where !item.contains("=") {
                throw ValidationError("--override expects key=value, got '\(item)'")
            }
            guard Logger.Level(rawValue: logLevel) != nil else {
                throw ValidationError("unknown --log-level '\(logLevel)'")
            }
        }

        func run() async throws {
            let level = Logger.Level(rawValue: logLevel) ?? .info
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
            let logger = Logger(label: "runnel")

            var overrides: [(String, String)] = []
            for item in override {
                let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                overrides.append((String(parts[0]), parts.count > 1 ? String(parts[1]) : ""))
            }
            if let listeners { overrides.append(("listeners", listeners)) }
            if let logDirs { overrides.append(("log.dirs", logDirs)) }

            let configuration: BrokerConfiguration
            do {
                configuration = try BrokerConfiguration.load(
                    path: config, environment: Self.environment(), overrides: overrides, strict: strictConfig)
                _ = try configuration.defaultLogConfig()
            } catch {
                logger.error("invalid configuration", metadata: ["error": "\(error)"])
                throw ExitCode(2)
            }
            if !configuration.unknownKeys.isEmpty {
                logger.warning(
                    "ignoring unknown config keys",
                    metadata: ["keys": "\(configuration.unknownKeys.joined(separator: ","))"])
            }

            let broker = Broker(configuration: configuration, logger: logger)
            let bound: [BoundListener]
            do {
                bound = try await broker.start()
            } catch {
                logger.error("broker failed to start", metadata: ["error": "\(error)"])
                throw ExitCode(1)
            }
            for listener in bound {
                print("runnel: listening on \(listener.hostForDisplay):\(listener.port)")
            }
            if let metrics = await broker.metricsEndpoint {
                print("runnel: metrics on \(metrics.url)")
            }
            fflush(nil)  // all C streams: the listening line must reach a pipe at once

            let signals = SignalWatcher(signals: [SIGTERM, SIGINT]) { signal in
                logger.notice("received signal, shutting down", metadata: ["signal": "\(signal)"])
                Task { await broker.shutdown() }
            }
            await broker.waitUntilStopped()
            signals.cancel()
            if let failure = await broker.shutdownFailure {
                logger.error("shutdown failed", metadata: ["error": "\(failure)"])
                throw ExitCode(1)
            }
        }

        /// The process environment as a dictionary (no Foundation).
        static func environment() -> [String: String] {
            var result: [String: String] = [:]
            var pointer = environ
            while let entry = pointer.pointee {
                let text = String(cString: entry)
                if let equals = text.firstIndex(of: "=") {
                    result[String(text[..<equals])] = String(text[text.index(after: equals)...])
                }
                pointer += 1
            }
            return result
        }
    }
}

/// Runs a handler when one of `signals` arrives (the default action is disabled while watching).
final class SignalWatcher {
    private let sources: [any DispatchSourceSignal]

    init(signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) {
        var sources: [any DispatchSourceSignal] = []
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { handler(number) }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}
