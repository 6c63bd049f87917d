import NIOCore
import RunnelProtocol
import RunnelStorage
import TestSupport
import Testing

@testable import RunnelBroker

/// The hand-written zero-copy Fetch encoder must produce exactly the bytes of the generated `FetchResponse`.
@Suite struct FetchResponseWriterTests {
    private static func randomTopics(using rng: inout SplitMix64) -> [FetchTopicResult] {
        (0..<Int.random(in: 0...3, using: &rng)).map { topicIndex in
            FetchTopicResult(
                name: "topic-\(topicIndex)-" + String(repeating: "x", count: Int.random(in: 0...40, using: &rng)),
                partitions: (0..<Int.random(in: 0...4, using: &rng)).map { partition in
                    let chunks: [ReadChunk] = (0..<Int.random(in: 0...3, using: &rng)).map { _ in
                        let bytes = (0..<Int.random(in: 1...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                        return .memory(ByteBuffer(bytes: bytes))
                    }
                    return FetchPartitionResult(
                        partitionIndex: Int32(partition), errorCode: Int16.random(in: 0...3, using: &rng),
                        highWatermark: Int64.random(in: -1...1_000_000, using: &rng),
                        lastStableOffset: Int64.random(in: -1...1_000_000, using: &rng),
                        logStartOffset: Int64.random(in: -1...1000, using: &rng), records: chunks)
                })
        }
    }

    private static func generated(_ topics: [FetchTopicResult], version: Int16) -> FetchResponse {
        var response = FetchResponse()
        response.throttleTimeMs = 0
        response.errorCode = 0
        response.sessionId = 0
        response.responses = topics.map { topic in
            var result = FetchResponse.FetchableTopicResponse()
            result.topic = topic.name
            result.partitions = topic.partitions.map { partition in
                var data = FetchResponse.PartitionData()
                data.partitionIndex = partition.partitionIndex
                data.errorCode = partition.errorCode
                data.highWatermark = partition.highWatermark
                data.lastStableOffset = partition.lastStableOffset
                if version >= 5 { data.logStartOffset = partition.logStartOffset }
                data.abortedTransactions = nil
                var records = ByteBuffer()
                for chunk in partition.records {
                    if case var .memory(bytes) = chunk { records.writeBuffer(&bytes) }
                }
                data.records = records
                return data
            }
            return result
        }
        return response
    }

    @Test func writerMatchesTheGeneratedEncoderAtEveryServedVersion() {
        var rng = SplitMix64(seed: 0x5EED_F37C)
        for round in 0..<200 {
            let topics = Self.randomTopics(using: &rng)
            for version in FetchResponseWriter.supportedVersions {
                var ours = ByteBuffer()
                for part in FetchResponseWriter.encode(version: version, topics: topics) {
                    guard case var .bytes(buffer) = part else {
                        Issue.record("memory chunks must stay memory parts")
                        return
                    }
                    ours.writeBuffer(&buffer)
                }
                let expected = Self.generated(topics, version: version).encoded(version: version)
                #expect(ours == expected, "round \(round), version \(version)")
                if ours != expected { return }
            }
        }
    }
}
