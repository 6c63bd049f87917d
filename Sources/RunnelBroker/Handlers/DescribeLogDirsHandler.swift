#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import NIOCore
import RunnelProtocol
import RunnelStorage

/// DescribeLogDirs (key 35), v1–4: the one log directory with each partition's size on disk, as Kafka's
/// `kafka-log-dirs.sh` and admin clients' `describeLogDirs` read it.
///
/// `topics` null asks for every partition; requested topics or partitions that do not exist are left out, as Kafka
/// does. `offsetLag` is 0 and `isFutureKey` false (no replica moves on one broker); v4 adds the file system's total
/// and usable bytes (`statvfs`; -1 if it fails). The partition sizes are sums the logs keep in memory; `realpath`
/// and `statvfs` still ask the file system, so the answer is built on the thread pool, not the event loop.
struct DescribeLogDirsHandler: ApiHandler {
    typealias Request = DescribeLogDirsRequest
    var advertisedVersions: ClosedRange<Int16> { 1...4 }
    let broker: BrokerContext

    func handle(_ request: DescribeLogDirsRequest, context: RequestContext) -> EventLoopFuture<DescribeLogDirsResponse?> {
        let topics = broker.topics
        let version = context.version
        return broker.runBlocking(on: context.eventLoop) { Self.describe(request, version: version, topics: topics) }
    }

    static func describe(_ request: DescribeLogDirsRequest, version: Int16, topics: TopicManager)
        -> DescribeLogDirsResponse?
    {
        var wanted: [(name: String, partitions: [Int32])] = []
        if let requested = request.topics {
            for entry in requested {
                guard let topic = topics.topic(entry.topic) else { continue }
                wanted.append((entry.topic, entry.partitions.filter { $0 >= 0 && $0 < topic.partitionCount }))
            }
        } else {
            for topic in topics.allTopics().sorted(by: { $0.name < $1.name }) {
                wanted.append((topic.name, Array(0..<topic.partitionCount)))
            }
        }
        var result = DescribeLogDirsResponse.DescribeLogDirsResult()
        result.errorCode = 0
        result.logDir = absolutePath(topics.logManager.directory)
        for (name, partitions) in wanted {
            var topic = DescribeLogDirsResponse.DescribeLogDirsTopic()
            topic.name = name
            for partition in partitions {
                guard let log = topics.log(TopicPartition(topic: name, partition: partition)) else { continue }
                var entry = DescribeLogDirsResponse.DescribeLogDirsPartition()
                entry.partitionIndex = partition
                entry.partitionSize = Int64(log.sizeInBytes)
                entry.offsetLag = 0
                entry.isFutureKey = false
                topic.partitions.append(entry)
            }
            if !topic.partitions.isEmpty { result.topics.append(topic) }
        }
        if version >= 4 { (result.totalBytes, result.usableBytes) = fileSystemBytes(result.logDir) }
        var response = DescribeLogDirsResponse()
        response.throttleTimeMs = 0
        response.errorCode = 0
        response.results = [result]
        return response
    }

    /// `path` made absolute (Kafka reports the configured directory as an absolute path).
    static func absolutePath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// (total, usable) bytes of the file system holding `path`; (-1, -1) when `statvfs` fails.
    static func fileSystemBytes(_ path: String) -> (Int64, Int64) {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else { return (-1, -1) }
        let blockSize = Int64(stats.f_frsize)
        return (Int64(stats.f_blocks) * blockSize, Int64(stats.f_bavail) * blockSize)
    }
}
