import NIOCore
import RunnelProtocol

/// InitProducerId (key 22), v0–5, for idempotent (non-transactional) producers: every call returns a new unique
/// producer id with epoch 0 (§9). Transactional ids are not supported.
struct InitProducerIdHandler: ApiHandler {
    typealias Request = InitProducerIdRequest
    var advertisedVersions: ClosedRange<Int16> { 0...5 }
    let broker: BrokerContext

    func handle(_ request: InitProducerIdRequest, context: RequestContext) -> EventLoopFuture<InitProducerIdResponse?> {
        var refused = InitProducerIdResponse()
        refused.throttleTimeMs = 0
        refused.producerId = -1
        refused.producerEpoch = -1
        let response = refused
        if let transactionalId = request.transactionalId {
            refused.errorCode =
                transactionalId.isEmpty ? ErrorCode.invalidRequest.rawValue : ErrorCode.transactionalIdAuthorizationFailed.rawValue
            context.logger.info("refusing transactional producer: transactions are not supported")
            return context.eventLoop.makeSucceededFuture(refused)
        }
        let broker = self.broker
        // A new block of ids is persisted (fsync) once per 1000 ids: run on the thread pool.
        return broker.runBlocking(on: context.eventLoop) { try broker.producerIds.allocate() }
            .map { id -> InitProducerIdResponse? in
                var allocated = response
                allocated.errorCode = 0
                allocated.producerId = id
                allocated.producerEpoch = 0
                return allocated
            }.recover { error in
                broker.logger.error("producer id allocation failed", metadata: ["error": "\(error)"])
                var failed = response
                failed.errorCode = ErrorCode.kafkaStorageError.rawValue
                return failed
            }
    }
}
