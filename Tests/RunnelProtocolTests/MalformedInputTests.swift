import NIOCore
import RunnelProtocol
import Testing

@Suite struct MalformedInputTests {
    @Test func everyTruncationOfEveryDefaultMessageThrows() {
        for type in allGeneratedMessageTypes { checkDefaults(type) }
    }

    func checkDefaults<M: KafkaMessage & RandomlyGenerated>(_: M.Type) {
        for version in M.validVersions { expectEveryTruncationThrows(M(), version: version) }
    }

    @Test func everyTruncationOfPopulatedKeyMessagesThrows() {
        for type in RoundTripTests.keyMessages { checkRandom(type) }
    }

    func checkRandom<M: KafkaMessage & RandomlyGenerated>(_: M.Type) {
        for version in M.validVersions {
            var source = RandomValues(seed: UInt64(version) &* 7919, maximumArrayCount: 2)
            expectEveryTruncationThrows(M.random(version: version, using: &source), version: version)
        }
    }

    @Test func randomBytesNeverTrapTheDecoders() {
        var source = RandomValues(seed: 2024)
        var decodedCount = 0
        for _ in 0..<20 {
            for apiKey in ApiKey.allCases {
                let length = source.below(64)
                var bytes = ByteBufferAllocator().buffer(capacity: length)
                for _ in 0..<length {
                    // Bias towards 0x00 / 0xff so lengths, nulls and counts hit their edge cases.
                    let choice = source.below(4)
                    bytes.writeInteger(choice == 0 ? 0 : choice == 1 ? 0xFF : UInt8(truncatingIfNeeded: source.next()))
                }
                let version = apiKey.validVersions.lowerBound + Int16(source.below(apiKey.validVersions.count))
                var reader = MessageReader(bytes)
                if (try? KafkaRequest.decode(apiKey: apiKey, version: version, from: &reader)) != nil {
                    decodedCount += 1
                }
                var responseReader = MessageReader(bytes)
                _ = try? KafkaResponse.decode(apiKey: apiKey, version: version, from: &responseReader)
            }
        }
        // Reaching here is the property (no trap); some inputs happen to be valid.
        #expect(decodedCount >= 0)
    }

    @Test func hugeArrayCountInAProduceRequestFailsFast() {
        // acks -1, timeout 0, topic count 0x7fffffff with nothing after it.
        let bytes = Hex.buffer("ffff 00000000 7fffffff")
        #expect(throws: ProtocolError.lengthExceedsRemaining(length: Int(Int32.max), remaining: 0)) {
            try ProduceRequest(from: bytes, version: 3 - 3)
        }
    }

    @Test func nullForANonNullableArrayIsRejected() {
        // Produce v9 (flexible): null transactional id, acks, timeout, then compact array "null" (0).
        let bytes = Hex.buffer("00 ffff 00000000 00 00")
        #expect(throws: ProtocolError.unexpectedNull) { try ProduceRequest(from: bytes, version: 9) }
    }
}
