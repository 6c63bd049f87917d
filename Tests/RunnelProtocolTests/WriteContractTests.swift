import NIOCore
import RunnelProtocol
import Testing

@Suite struct WriteContractTests {
    @Test func ignorableFieldsAreSkippedAtVersionsWithoutThem() throws {
        // ProduceResponse.ThrottleTimeMs is ignorable and exists from v1.
        let response = ProduceResponse(responses: [], throttleTimeMs: 500)
        let v0 = response.encoded(version: 0)
        #expect(Hex.string(v0) == "00000000")
        #expect(try ProduceResponse(from: v0, version: 0).throttleTimeMs == 0)
    }

    @Test func nilWhereTheVersionForbidsNullIsWrittenAsEmpty() throws {
        // MetadataRequest.Topics is nullable only from v1; at v0 a nil is written as an empty array.
        let request = MetadataRequest(topics: nil)
        #expect(Hex.string(request.encoded(version: 0)) == "00000000")
        #expect(Hex.string(request.encoded(version: 1)) == "ffffffff")
        #expect(try MetadataRequest(from: request.encoded(version: 1), version: 1).topics == nil)
    }

    #if DEBUG
    @Test func writingANonIgnorableFieldAtAVersionWithoutItIsAProgrammerError() async {
        await #expect(processExitsWith: .failure) {
            // ProduceRequest.TransactionalId exists from v3 and is not ignorable.
            let request = ProduceRequest(transactionalId: "tx")
            _ = request.encoded(version: 2)
        }
    }
    #endif
}
