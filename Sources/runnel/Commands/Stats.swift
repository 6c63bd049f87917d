import ArgumentParser
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import RunnelBroker

extension Runnel {
    /// `runnel stats`: a person's view of a running broker, from two scrapes of its metrics endpoint.
    struct Stats: AsyncParsableCommand {
        static let defaultURL = "http://127.0.0.1:9644/metrics"

        static let configuration = CommandConfiguration(
            abstract: "Show topic rates, group lag and cache figures of a running broker.",
            discussion: """
                Fetches the broker's Prometheus metrics (GET /metrics, served at the
                address of its metrics.listener setting) twice, --interval seconds apart,
                and prints rates over that interval:
                  - topics: partitions, sum of log end offsets, size on disk, records and
                    bytes produced per second, records (offsets) consumed per second;
                  - consumer groups: members, total lag and largest partition lag;
                  - cache hit ratio over the interval and since start, cache use and
                    budget, open connections, requests per second.
                Internal topics (__consumer_offsets) are shown with --include-internal.

                Examples:
                  runnel stats
                  runnel stats --interval 5 --watch
                  runnel stats --metrics-url http://10.0.0.5:9644/metrics --json
                  RUNNEL_METRICS_URL=http://127.0.0.1:19644/metrics runnel stats
                """
        )

        @Option(
            name: .long,
            help: ArgumentHelp(
                "The broker's metrics URL (default: $RUNNEL_METRICS_URL, else \(defaultURL)).", valueName: "url"))
        var metricsURL: String?

        @Option(name: .long, help: ArgumentHelp("Seconds between the two scrapes (rates are over it).", valueName: "s"))
        var interval: Double = 1

        @Flag(name: .long, help: "Print JSON (one object per report) instead of tables.")
        var json = false

        @Flag(name: .long, help: "Repeat every --interval seconds until Ctrl-C.")
        var watch = false

        @Flag(name: .long, help: "Also list internal topics such as __consumer_offsets.")
        var includeInternal = false

        func validate() throws {
            guard interval > 0, interval <= 3600 else { throw ValidationError("--interval must be in (0, 3600] seconds") }
            _ = try MetricsURL(parsing: url)
        }

        /// The option, else the environment, else the default.
        var url: String {
            if let metricsURL { return metricsURL }
            if let env = ProcessInfo.processInfo.environment["RUNNEL_METRICS_URL"], !env.isEmpty { return env }
            return Self.defaultURL
        }

        func run() async throws {
            let target = try MetricsURL(parsing: url)
            var previous = try await scrape(target)
            repeat {
                try await Task.sleep(for: .milliseconds(Int64(interval * 1000)))
                let current = try await scrape(target)
                let report = MetricsReport(
                    previous: previous.text, current: current.text,
                    intervalSeconds: Double((current.at - previous.at).components.attoseconds) / 1e18
                        + Double((current.at - previous.at).components.seconds),
                    includeInternal: includeInternal)
                if json {
                    try Self.printJSON(report)
                } else {
                    if watch { print("") }
                    Self.printReport(report)
                }
                fflush(nil)  // all C streams: each report reaches a pipe at once
                previous = current
            } while watch
        }

        /// One scrape, with the time it was taken.
        private func scrape(_ target: MetricsURL) async throws -> (text: PrometheusText, at: ContinuousClock.Instant) {
            let body: String
            do {
                body = try await MetricsHTTPGet.fetch(target)
            } catch let error as MetricsHTTPGet.Failure {
                throw StatsError(
                    "no metrics endpoint at \(target.text) (\(error)): is `runnel serve` running? its "
                        + "metrics.listener setting decides the address")
            }
            do {
                return (try PrometheusText(parsing: body), .now)
            } catch {
                throw StatsError("\(target.text) did not answer Prometheus text: \(error)")
            }
        }

        // MARK: - Output

        static func printReport(_ report: MetricsReport) {
            var topicRows = [["TOPIC", "PARTITIONS", "LEO SUM", "SIZE", "RECORDS IN/S", "BYTES IN/S", "RECORDS OUT/S", "BYTES OUT/S"]]
            for topic in report.topics {
                topicRows.append([
                    topic.topic, "\(topic.partitions)", "\(topic.logEndOffsetSum)", formatBytes(Double(topic.sizeBytes)),
                    formatRate(topic.recordsInPerSecond), formatBytes(topic.bytesInPerSecond) + "/s",
                    formatRate(topic.recordsOutPerSecond), formatBytes(topic.bytesOutPerSecond) + "/s",
                ])
            }
            if report.topics.isEmpty { print("no topics") } else { printTable(topicRows) }
            print("")
            if report.groups.isEmpty {
                print("no consumer groups")
            } else {
                var groupRows = [["GROUP", "MEMBERS", "TOTAL LAG", "MAX PARTITION LAG"]]
                for group in report.groups {
                    groupRows.append([group.group, "\(group.members)", "\(group.totalLag)", "\(group.maxPartitionLag)"])
                }
                printTable(groupRows)
            }
            print("")
            let interval = report.cacheHitRatioInterval.map(formatPercent) ?? "-"
            let total = report.cacheHitRatioTotal.map(formatPercent) ?? "-"
            print(
                "cache hit ratio \(interval) (last \(formatSeconds(report.intervalSeconds))), \(total) since start; "
                    + "cache \(formatBytes(Double(report.cacheBytes))) of \(formatBytes(Double(report.cacheMaxBytes))); "
                    + "\(report.openConnections) connections; \(formatRate(report.requestsPerSecond)) requests/s; "
                    + "up \(formatSeconds(report.uptimeSeconds))")
        }

        static func printJSON(_ report: MetricsReport) throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            encoder.nonConformingFloatEncodingStrategy = .convertToString(
                positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        }

        /// Left-aligned text, right-aligned numbers (every column but the first), two spaces apart.
        static func printTable(_ rows: [[String]]) {
            guard let header = rows.first else { return }
            let widths = header.indices.map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
            for row in rows {
                let cells = row.enumerated().map { column, cell -> String in
                    let pad = String(repeating: " ", count: max(0, widths[column] - cell.count))
                    return column == 0 ? cell + pad : pad + cell
                }
                print(cells.joined(separator: "  "))
            }
        }

        static func formatBytes(_ bytes: Double) -> String {
            let units = ["B", "KiB", "MiB", "GiB", "TiB"]
            var value = bytes
            var unit = 0
            while abs(value) >= 1024 && unit < units.count - 1 {
                value /= 1024
                unit += 1
            }
            return unit == 0 ? String(format: "%.0f B", value) : String(format: "%.1f %@", value, units[unit])
        }

        static func formatRate(_ value: Double) -> String { String(format: "%.1f", value) }

        static func formatPercent(_ ratio: Double) -> String { String(format: "%.1f%%", ratio * 100) }

        static func formatSeconds(_ seconds: Double) -> String {
            if seconds < 120 { return String(format: "%.1fs", seconds) }
            let whole = Int(seconds)
            if whole < 7200 { return "\(whole / 60)m\(whole % 60)s" }
            return "\(whole / 3600)h\(whole / 60 % 60)m"
        }
    }
}

/// A `runnel stats` failure with a message for the user (exit status 1).
struct StatsError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// An `http://host:port/path` URL (the only kind the metrics endpoint serves).
struct MetricsURL: Sendable {
    let text: String
    let host: String
    let port: Int
    let path: String

    init(parsing text: String) throws {
        self.text = text
        guard text.hasPrefix("http://") else {
            throw ValidationError("--metrics-url must start with http:// (got '\(text)')")
        }
        let rest = text.dropFirst("http://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        path = slash == rest.endIndex ? "/metrics" : String(rest[slash...])
        var hostPart = Substring(authority)
        var port = 80
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw ValidationError("bad IPv6 host in '\(text)'") }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                guard let value = Int(after.dropFirst()), (1...65535).contains(value) else {
                    throw ValidationError("bad port in '\(text)'")
                }
                port = value
            }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            guard let value = Int(authority[authority.index(after: colon)...]), (1...65535).contains(value) else {
                throw ValidationError("bad port in '\(text)'")
            }
            port = value
        }
        guard !hostPart.isEmpty else { throw ValidationError("no host in '\(text)'") }
        self.host = String(hostPart)
        self.port = port
    }
}

/// One HTTP/1.1 GET over NIO (`Connection: close`), returning the body of a 200 response.
enum MetricsHTTPGet {
    /// Largest body accepted, bytes.
    static let maxBodyBytes = 64 << 20

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// - Throws: `Failure` when the connection fails, the status is not 200, the body is too large, or no full
    ///   answer arrives within `timeout`.
    static func fetch(_ url: MetricsURL, timeout: Duration = .seconds(10)) async throws -> String {
        try await withThrowingTaskGroup(of: String.self) { group in
            group.addTask { try await exchange(url) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw Failure(description: "no answer within \(timeout)")
            }
            defer { group.cancelAll() }
            guard let body = try await group.next() else { throw Failure(description: "no answer") }
            return body
        }
    }

    private static func exchange(_ url: MetricsURL) async throws -> String {
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(3))
                .connect(host: url.host, port: url.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                            wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw Failure(description: "cannot connect: \(error)")
        }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: url.host.contains(":") ? "[\(url.host)]:\(url.port)" : "\(url.host):\(url.port)")
        headers.add(name: "Accept", value: "text/plain")
        headers.add(name: "Connection", value: "close")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: url.path, headers: headers)
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(.head(head))
            try await outbound.write(.end(nil))
            var status: HTTPResponseStatus?
            var body = ByteBuffer()
            for try await part in inbound {
                switch part {
                case let .head(responseHead):
                    status = responseHead.status
                case var .body(chunk):
                    guard body.readableBytes + chunk.readableBytes <= maxBodyBytes else {
                        throw Failure(description: "response larger than \(maxBodyBytes) bytes")
                    }
                    body.writeBuffer(&chunk)
                case .end:
                    guard status == .ok else {
                        throw Failure(description: "HTTP status \(status.map { "\($0.code)" } ?? "?")")
                    }
                    return String(decoding: body.readableBytesView, as: UTF8.self)
                }
            }
            throw Failure(description: "connection closed before the response ended")
        }
    }
}
