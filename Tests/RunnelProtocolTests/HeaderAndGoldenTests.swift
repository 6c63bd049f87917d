import NIOCore
import RunnelProtocol
import Testing

@Suite struct HeaderAndGoldenTests {
    /// KAFKA-FORMATS.md §1.10: ApiVersions v3 request frame, client id "c", correlation 1, software swift/1.0.
    static let apiVersionsRequestFrame = "00000017 0012 0003 00000001 0001 63 00 06 7377696674 04 312e30 00"
    /// The matching v3 response with one api entry (18, 0..4): header v0, error 0, one entry, throttle 0.
    static let apiVersionsResponseFrame = "00000013 00000001 0000 02 0012 0000 0004 00 00000000 00"

    @Test func apiVersionsRequestEncodesToTheGoldenFrame() {
        let request = ApiVersionsRequest(clientSoftwareName: "swift", clientSoftwareVersion: "1.0")
        let frame = request.frame(version: 3, correlationId: 1, clientId: "c")
        #expect(Hex.string(frame.contiguousBytes()) == Hex.string(Hex.buffer(Self.apiVersionsRequestFrame)))
    }

    @Test func goldenRequestFrameDecodesToHeaderAndTypedRequest() throws {
        var stream = Hex.buffer(Self.apiVersionsRequestFrame)
        let body = try #require(try KafkaFrameDecoder.nextFrame(from: &stream, maximumFrameBytes: 1024))
        #expect(stream.readableBytes == 0)
        let decoded = try KafkaRequestFrame.decode(frame: body)
        #expect(decoded.header.requestApiKey == 18)
        #expect(decoded.header.requestApiVersion == 3)
        #expect(decoded.correlationId == 1)
        #expect(decoded.header.clientId == "c")
        #expect(decoded.apiKey == .apiVersions)
        #expect(
            decoded.request == .apiVersions(ApiVersionsRequest(clientSoftwareName: "swift", clientSoftwareVersion: "1.0")))
    }

    @Test func apiVersionsResponseEncodesToTheGoldenFrameWithHeaderV0() throws {
        let response = ApiVersionsResponse(
            errorCode: 0, apiKeys: [.init(apiKey: 18, minVersion: 0, maxVersion: 4)], throttleTimeMs: 0)
        let frame = response.frame(version: 3, correlationId: 1)
        #expect(Hex.string(frame.contiguousBytes()) == Hex.string(Hex.buffer(Self.apiVersionsResponseFrame)))
        // And back: skip size + correlation id (header v0), decode the body.
        var bytes = frame.contiguousBytes()
        bytes.moveReaderIndex(forwardBy: 8)
        #expect(try ApiVersionsResponse(from: bytes, version: 3) == response)
    }

    @Test func headerVersionsFollowFlexibility() {
        #expect(ApiKey.produce.requestHeaderVersion(for: 8) == 1)
        #expect(ApiKey.produce.requestHeaderVersion(for: 9) == 2)
        #expect(ApiKey.produce.responseHeaderVersion(for: 8) == 0)
        #expect(ApiKey.produce.responseHeaderVersion(for: 9) == 1)
        #expect(ApiKey.apiVersions.requestHeaderVersion(for: 3) == 2)
        #expect(ApiKey.apiVersions.responseHeaderVersion(for: 3) == 0)
        #expect(ApiKey.apiVersions.responseHeaderVersion(for: 4) == 0)
        #expect(ApiKey.controlledShutdown.requestHeaderVersion(for: 0) == 0)
        #expect(ApiKey.saslHandshake.requestHeaderVersion(for: 1) == 1)
        // A future ApiVersions version is still parsed with header v2.
        #expect(ApiKey.apiVersions.requestHeaderVersion(for: 99) == 2)
    }

    @Test func apiKeyTableHasTheBrokerApis() {
        let expected: [(ApiKey, Int16)] = [
            (.produce, 0), (.fetch, 1), (.listOffsets, 2), (.metadata, 3), (.offsetCommit, 8), (.offsetFetch, 9),
            (.findCoordinator, 10), (.joinGroup, 11), (.heartbeat, 12), (.leaveGroup, 13), (.syncGroup, 14),
            (.describeGroups, 15), (.listGroups, 16), (.saslHandshake, 17), (.apiVersions, 18), (.createTopics, 19),
            (.deleteTopics, 20), (.deleteRecords, 21), (.initProducerId, 22), (.offsetForLeaderEpoch, 23),
            (.describeConfigs, 32), (.alterConfigs, 33), (.createPartitions, 37), (.deleteGroups, 42),
            (.incrementalAlterConfigs, 44), (.offsetDelete, 47), (.describeCluster, 60),
        ]
        for (key, raw) in expected { #expect(key.rawValue == raw) }
        #expect(ApiKey.apiVersions.validVersions == 0...4)
        #expect(ApiKey.apiVersions.flexibleVersionsStart == 3)
        #expect(ApiKey.saslHandshake.flexibleVersionsStart == nil)
        #expect(ApiKey.produce.name == "Produce")
    }

    @Test func requestHeaderV1AndV2KeepInt16ClientId() throws {
        for version: Int16 in [1, 2] {
            let header = RequestHeader(apiKey: .metadata, apiVersion: version == 2 ? 9 : 8, correlationId: 7, clientId: "ab")
            let bytes = header.encoded(version: version)
            let expectedTail = version == 2 ? "0002616200" : "00026162"
            #expect(Hex.string(bytes).hasSuffix(expectedTail))
            var reader = MessageReader(bytes)
            #expect(try RequestHeader.parse(from: &reader) == header)
        }
        let nullClient = RequestHeader(apiKey: .metadata, apiVersion: 1, correlationId: 7, clientId: nil)
        #expect(Hex.string(nullClient.encoded(version: 1)).hasSuffix("ffff"))
    }

    @Test func unknownApiKeyIsReportedWithItsCorrelationId() throws {
        let frame = Hex.buffer("7fff 0000 0000002a 0000")
        var reader = MessageReader(frame)
        let header = try RequestHeader.parse(from: &reader)
        #expect(header.apiKey == nil)
        #expect(header.correlationId == 42)
        #expect(throws: ProtocolError.unknownApiKey(0x7fff)) { try KafkaRequestFrame.decode(frame: frame) }
    }

    @Test func unsupportedVersionIsRejectedBeforeDecodingTheBody() throws {
        // ApiVersions v9 (unknown to the schema): header v2 parses, body decoding is refused.
        let frame = Hex.buffer("0012 0009 00000005 0000 00 ffffffff")
        var reader = MessageReader(frame)
        let header = try RequestHeader.parse(from: &reader)
        #expect(header.correlationId == 5)
        #expect(throws: ProtocolError.unsupportedVersion(apiKey: 18, version: 9)) {
            try KafkaRequestFrame.decode(frame: frame)
        }
    }
}
