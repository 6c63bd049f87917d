import NIOCore
import PropertyBased
import RunnelProtocol
import Testing

@Suite struct RoundTripTests {
    static let keyMessages: [any (KafkaMessage & RandomlyGenerated).Type] = [
        ProduceRequest.self, ProduceResponse.self, FetchRequest.self, FetchResponse.self,
        MetadataRequest.self, MetadataResponse.self, JoinGroupRequest.self, JoinGroupResponse.self,
        OffsetCommitRequest.self, OffsetCommitResponse.self, CreateTopicsRequest.self, CreateTopicsResponse.self,
    ]

    @Test func registryListsEveryGeneratedMessage() {
        #expect(allGeneratedMessageTypes.count >= 2 * ApiKey.allCases.count)
        #expect(ApiKey.allCases.count > 60)
    }

    @Test func everyVersionOfEveryMessageRoundTripsWithDefaults() {
        for type in allGeneratedMessageTypes { checkDefaults(type) }
    }

    func checkDefaults<M: KafkaMessage & RandomlyGenerated>(_: M.Type) {
        for version in M.validVersions { expectRoundTrip(M(), version: version) }
    }

    @Test func everyVersionOfEveryMessageRoundTripsWithPopulatedValues() {
        for (index, type) in allGeneratedMessageTypes.enumerated() {
            checkRandom(type, seeds: (0..<4).map { UInt64(index * 1000 + $0) })
        }
    }

    func checkRandom<M: KafkaMessage & RandomlyGenerated>(_: M.Type, seeds: [UInt64]) {
        for version in M.validVersions {
            for seed in seeds {
                var source = RandomValues(seed: seed &+ UInt64(version))
                expectRoundTrip(M.random(version: version, using: &source), version: version)
            }
        }
    }

    @Test func keyMessagesRoundTripForRandomValues() async {
        await propertyCheck(count: 60, input: Gen.uint64()) { seed in
            for type in Self.keyMessages { checkRandom(type, seeds: [seed]) }
        }
    }

    @Test func requestEnumDecodesEveryApiAtEveryVersion() throws {
        for apiKey in ApiKey.allCases {
            for version in apiKey.validVersions {
                var reader = MessageReader(try defaultRequestBody(apiKey, version: version))
                let request = try KafkaRequest.decode(apiKey: apiKey, version: version, from: &reader)
                #expect(request.apiKey == apiKey)
                var writer = MessageWriter()
                request.write(to: &writer, version: version)
                #expect(writer.buffer == (try defaultRequestBody(apiKey, version: version)))
            }
        }
    }

    /// Encodes the all-defaults request of `apiKey` through the response/request enum-free path.
    func defaultRequestBody(_ apiKey: ApiKey, version: Int16) throws -> ByteBuffer {
        let type = try #require(
            allGeneratedMessageTypes.first { ($0 as? any KafkaRequestMessage.Type)?.apiKey == apiKey })
        return encodeDefault(type, version: version)
    }

    func encodeDefault<M: KafkaMessage & RandomlyGenerated>(_: M.Type, version: Int16) -> ByteBuffer {
        M().encoded(version: version)
    }

    @Test func responseEnumRoundTripsFramedResponses() throws {
        var source = RandomValues(seed: 42)
        let response = KafkaResponse.metadata(MetadataResponse.random(version: 12, using: &source))
        let frame = response.frame(version: 12, correlationId: 77)
        var bytes = frame.contiguousBytes()
        #expect(bytes.readInteger(as: Int32.self) == Int32(frame.byteCount))
        var reader = MessageReader(bytes)
        #expect(try ResponseHeader(from: &reader, version: 1).correlationId == 77)
        #expect(try KafkaResponse.decode(apiKey: .metadata, version: 12, from: &reader) == response)
    }
}
