import NIOCore
import RunnelProtocol

/// ApiVersions (key 18), v0–4: lists every served API with its advertised range (§1.9, §12).
struct ApiVersionsHandler: ApiHandler {
    typealias Request = ApiVersionsRequest
    static let versions: ClosedRange<Int16> = 0...4
    var advertisedVersions: ClosedRange<Int16> { Self.versions }
    /// (key, range) of every served API, ApiVersions included.
    let advertised: [(apiKey: ApiKey, versions: ClosedRange<Int16>)]

    func handle(_ request: ApiVersionsRequest, context: RequestContext) -> EventLoopFuture<ApiVersionsResponse?> {
        let keys = advertised.map {
            ApiVersionsResponse.ApiVersion(
                apiKey: $0.apiKey.rawValue, minVersion: $0.versions.lowerBound, maxVersion: $0.versions.upperBound)
        }
        return context.eventLoop.makeSucceededFuture(ApiVersionsResponse(errorCode: 0, apiKeys: keys, throttleTimeMs: 0))
    }
}
