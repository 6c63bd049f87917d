internal import NIOCore
internal import RunnelProtocol
internal import RunnelRecords

/// The result of one Produce request, kept until the outcomes of all earlier requests were processed.
struct RequestOutcome {
    let batches: [ProducerBatch]
    let result: Result<ByteBuffer, ClientError>
    let version: Int16
    let expectsResponse: Bool
    let generation: Int
}

/// Sending queued batches, handling responses, retries and reconnects.
extension KafkaProducer {
    /// Sends queued batches until none is left: one request per free in-flight slot, each with the head batch
    /// of every partition that may send (round robin, up to `maxRequestBytes`). Waits for a slot, for a
    /// held partition's in-flight batches to come back, for a retry backoff, or for a reconnect; returns once
    /// every queued batch was sent or failed. Taking batches off the queues and writing them to the connection
    /// happen without a suspension in between, so the wire order is the queue order even when several drains
    /// interleave.
    func drain() async {
        while queuedBatches > 0 {
            if connectionBroken || needsNewProducerId {
                if !connectionBroken, inFlight > 0 {
                    await waitForChange()  // a new producer id is taken with nothing in flight
                } else {
                    await recover()
                }
                continue
            }
            if inFlight >= configuration.maxInFlightRequests {
                await waitForChange()
                continue
            }
            let now = ContinuousClock.now
            let taken = takeRequestBatches(now: now)
            if !taken.isEmpty {
                sendRequest(taken)
                continue
            }
            if inFlight > 0 {
                await waitForChange()
            } else if let wake = earliestRetry() {
                try? await Task.sleep(until: wake, clock: .continuous)
            } else {
                break  // unreachable while the queue invariants hold; never spin
            }
        }
    }

    /// Suspends until the next completion or the end of a recovery. Only called with something in flight or a
    /// recovery running, so a wake-up always comes (every request completes: answered, timed out or failed).
    func waitForChange() async {
        await withCheckedContinuation { changeWaiters.append($0) }
    }

    private func earliestRetry() -> ContinuousClock.Instant? {
        var earliest: ContinuousClock.Instant?
        for key in activePartitions {
            guard let queue = queues[key], !queue.isEmpty, let time = queue.notBefore else { continue }
            if earliest.map({ time < $0 }) ?? true { earliest = time }
        }
        return earliest
    }

    /// The head batch of each partition that may send now, in round-robin order, within `maxRequestBytes`.
    private func takeRequestBatches(now: ContinuousClock.Instant) -> [ProducerBatch] {
        var taken: [ProducerBatch] = []
        var bytes = 0
        var stillActive: [TopicPartition] = []
        stillActive.reserveCapacity(activePartitions.count)
        var full = false
        for key in activePartitions {
            guard var queue = queues[key], !queue.isEmpty else {
                activeSet.remove(key)
                continue
            }
            defer { stillActive.append(key) }
            guard !full, queue.canSend(at: now), let head = queue.first else { continue }
            let size = head.bytes.readableBytes
            if !taken.isEmpty, bytes + size > configuration.maxRequestBytes {
                full = true
                continue
            }
            guard var batch = queue.removeFirst() else { continue }
            queue.held = false
            queue.notBefore = nil
            queue.inFlight += 1
            queues[key] = queue
            queuedBatches -= 1
            batch.attempts += 1
            if batch.attempts > 1 { report.retriedBatches += 1 }
            bytes += size
            taken.append(batch)
        }
        // Visit the partitions that sent this time last next time (fairness); drop emptied ones.
        let sent = Set(taken.map(\.topicPartition))
        activePartitions = stillActive.filter { !sent.contains($0) } + stillActive.filter { sent.contains($0) }
        return taken
    }

    private func sendRequest(_ batches: [ProducerBatch]) {
        var byTopic: [String: [ProduceRequest.PartitionProduceData]] = [:]
        var order: [String] = []
        for batch in batches {
            if byTopic[batch.topicPartition.topic] == nil { order.append(batch.topicPartition.topic) }
            byTopic[batch.topicPartition.topic, default: []].append(
                .init(index: batch.topicPartition.partition, records: batch.bytes))
            report.batchBytesSent += batch.bytes.readableBytes
        }
        let request = ProduceRequest(
            transactionalId: nil, acks: configuration.acks.rawValue, timeoutMs: configuration.ackTimeoutMs,
            topicData: order.map { .init(name: $0, partitionData: byTopic[$0] ?? []) })
        let expectsResponse = configuration.acks != .none
        let version = produceVersion
        let generation = connectionGeneration
        let future = connection.sendFuture(request, version: version, expectsResponse: expectsResponse)
        inFlight += 1
        let number = nextRequestNumber
        nextRequestNumber += 1
        Task {
            let result: Result<ByteBuffer, ClientError>
            do throws(ClientError) {
                result = .success(try await KafkaConnection.await(future))
            } catch {
                result = .failure(error)
            }
            self.arrived(
                number,
                RequestOutcome(
                    batches: batches, result: result, version: version, expectsResponse: expectsResponse,
                    generation: generation))
        }
    }

    /// Processes outcomes strictly in request order. Every request's future completes (answer, timeout or
    /// connection failure), so a gap is always filled.
    private func arrived(_ number: Int, _ outcome: RequestOutcome) {
        earlyOutcomes[number] = outcome
        while let next = earlyOutcomes.removeValue(forKey: nextOutcomeNumber) {
            nextOutcomeNumber += 1
            completed(
                next.batches, outcome: next.result, version: next.version, expectsResponse: next.expectsResponse,
                generation: next.generation)
        }
    }

    private func completed(
        _ batches: [ProducerBatch], outcome: Result<ByteBuffer, ClientError>, version: Int16, expectsResponse: Bool,
        generation: Int
    ) {
        inFlight -= 1
        for batch in batches { queues[batch.topicPartition]?.inFlight -= 1 }
        var requeued = false
        defer {
            if requeued { scheduleDrain() }
            wakeWaiters()
        }
        let response: ProduceResponse
        switch outcome {
        case .failure(let error):
            if Self.isConnectionFailure(error) { markBroken(generation: generation) }
            for batch in batches { requeued = retryOrFail(batch, error, code: nil) || requeued }
            return
        case .success(let body):
            guard expectsResponse else {
                for batch in batches { report.recordsWrittenUnacknowledged += batch.count }
                return
            }
            do throws(ClientError) {
                response = try KafkaConnection.decode(ProduceResponse.self, body: body, version: version)
            } catch {
                for batch in batches { fail(batch, error) }
                return
            }
        }
        var results: [TopicPartition: ProduceResponse.PartitionProduceResponse] = [:]
        for topic in response.responses {
            for partition in topic.partitionResponses {
                results[TopicPartition(topic: topic.name, partition: partition.index)] = partition
            }
        }
        for batch in batches {
            guard let result = results[batch.topicPartition] else {
                fail(batch, .malformedResponse(api: "Produce", reason: "no result for \(batch.topicPartition)"))
                continue
            }
            let code = KafkaErrorCode(rawValue: result.errorCode)
            if code == .none || code == .duplicateSequenceNumber {
                report.recordsAcknowledged += batch.count
                report.acknowledgements.append(
                    ProduceAck(
                        topicPartition: batch.topicPartition, baseOffset: result.baseOffset, recordCount: batch.count))
            } else {
                let detail = result.errorMessage ?? result.recordErrors.first?.batchIndexErrorMessage
                let error = ClientError.broker(
                    operation: "Produce to \(batch.topicPartition)", code: code, message: detail)
                requeued = retryOrFail(batch, error, code: code) || requeued
            }
        }
    }

    /// Whether a failed request's connection should be given up (reconnect before the next request).
    static func isConnectionFailure(_ error: ClientError) -> Bool {
        switch error {
        case .connectionClosed, .requestTimedOut, .brokerNotReachable: true
        default: false
        }
    }

    /// Whether a Produce error code may succeed on a resend (Kafka's retriable produce errors). With
    /// idempotence, OUT_OF_ORDER_SEQUENCE_NUMBER is retriable only behind a batch of the same partition that
    /// is being retried or renumbered: the broker saw the gap that batch left, not a real loss.
    private func isRetriable(_ code: KafkaErrorCode, partitionHeld: Bool) -> Bool {
        if code == .outOfOrderSequenceNumber { return partitionHeld || needsNewProducerId }
        return code.isRetriable
    }

    /// Requeues `batch` for a resend when the error is retriable and the batch has attempts and time left;
    /// otherwise reports it failed. Returns whether it was requeued.
    private func retryOrFail(_ batch: ProducerBatch, _ error: ClientError, code: KafkaErrorCode?) -> Bool {
        var batch = batch
        batch.lastError = error
        let key = batch.topicPartition
        if code == .messageTooLarge, let (first, second) = batch.split(compressionLevel: configuration.compressionLevel)
        {
            // Too large as a whole: resend as two halves at once, so only the record(s) really over the limit
            // fail in the end.
            var queue = queues[key] ?? PartitionSendQueue()
            queue.requeue(first)
            queue.requeue(second)
            queue.held = true
            queues[key] = queue
            queuedBatches += 2
            report.splitBatches += 1
            markActive(key)
            return true
        }
        let held = queues[key]?.held ?? false
        let retriable = code.map { isRetriable($0, partitionHeld: held) } ?? Self.isConnectionFailure(error)
        let now = ContinuousClock.now
        let deadline = batch.createdAt.advanced(by: .milliseconds(configuration.deliveryTimeoutMs))
        guard retriable, batch.attempts <= configuration.retries, now < deadline else {
            fail(batch, error, deliveryTimedOut: retriable && now >= deadline)
            return false
        }
        var queue = queues[key] ?? PartitionSendQueue()
        queue.requeue(batch)
        queue.held = true
        queue.notBefore = now.advanced(by: .milliseconds(configuration.retryBackoffMs))
        queues[key] = queue
        queuedBatches += 1
        markActive(key)
        return true
    }

    /// Reports `batch` as finally failed. Under idempotence its sequence numbers leave a gap: the producer
    /// takes a new id before sending more.
    func fail(_ batch: ProducerBatch, _ error: ClientError, deliveryTimedOut: Bool = false) {
        var failure = ProduceFailure(
            topicPartition: batch.topicPartition, recordIndices: batch.indices, error: error, attempts: batch.attempts)
        failure.deliveryTimeoutMs = deliveryTimedOut ? configuration.deliveryTimeoutMs : nil
        report.failures.append(failure)
        if configuration.usesIdempotence { needsNewProducerId = true }
    }

    /// Stops using the connection of `generation` (if it is still the current one); the next drain reconnects.
    private func markBroken(generation: Int) {
        guard generation == connectionGeneration, !connectionBroken else { return }
        connectionBroken = true
        if ownsConnection {
            let dead = connection
            Task { await dead.close() }
        }
    }

    /// Runs after a completion requeued batches, so they are resent even if no `send` or `flush` comes.
    private func scheduleDrain() {
        guard !drainScheduled else { return }
        drainScheduled = true
        Task {
            self.drainScheduled = false
            await self.drain()
        }
    }

    /// Wakes every change waiter (each re-checks its condition) and, when idle, `flush` waiters.
    func wakeWaiters() {
        let waiters = changeWaiters
        changeWaiters.removeAll()
        for waiter in waiters { waiter.resume() }
        if inFlight == 0 {
            let idle = idleWaiters
            idleWaiters.removeAll()
            for waiter in idle { waiter.resume() }
        }
    }

    // MARK: - Recovery

    /// Reconnects and/or takes a new producer id, one recovery at a time (concurrent drains wait for it).
    private func recover() async {
        if let running = recovery {
            await running.value
            return
        }
        let task = Task { await self.performRecovery() }
        recovery = task
        await task.value
    }

    /// Loops with backoff (`retryBackoffMs` doubling up to `retryBackoffMaxMs`) until the connection works and
    /// the producer id is fresh, failing queued batches whose delivery timeout passes meanwhile. Returns early
    /// when nothing is left to deliver, or when a new producer id must wait for in-flight requests.
    private func performRecovery() async {
        defer {
            recovery = nil
            wakeWaiters()
        }
        var backoff = max(1, configuration.retryBackoffMs)
        while true {
            expireQueuedBatches(now: ContinuousClock.now)
            guard queuedBatches > 0 else { return }
            do throws(ClientError) {
                if connectionBroken { try await reconnect() }
                if needsNewProducerId {
                    guard inFlight == 0 else { return }
                    try await initProducerId()
                }
                recoveryError = nil
                return
            } catch {
                recoveryError = error
                if Self.isConnectionFailure(error) || !connection.isActive {
                    markBroken(generation: connectionGeneration)
                }
            }
            try? await Task.sleep(for: .milliseconds(backoff))
            backoff = min(backoff * 2, max(backoff, configuration.retryBackoffMaxMs))
        }
    }

    private func reconnect() async throws(ClientError) {
        let old = connection
        let fresh = try await KafkaConnection.connect(
            to: old.address, clientId: old.clientId, requestTimeoutMs: old.requestTimeoutMs)
        let version: Int16
        do {
            version = try fresh.version(for: .produce)
        } catch {
            await fresh.close()
            throw error
        }
        connection = fresh
        ownsConnection = true
        connectionGeneration += 1
        connectionBroken = false
        produceVersion = version
        report.reconnects += 1
    }

    /// Fails the queued batches whose delivery timeout has passed, with the last error they or the recovery met.
    private func expireQueuedBatches(now: ContinuousClock.Instant) {
        let timeout = Duration.milliseconds(configuration.deliveryTimeoutMs)
        for key in activePartitions {
            guard var queue = queues[key], !queue.isEmpty else { continue }
            let expired = queue.removeAll { now >= $0.createdAt.advanced(by: timeout) }
            guard !expired.isEmpty else { continue }
            queues[key] = queue
            queuedBatches -= expired.count
            for batch in expired {
                let cause =
                    batch.lastError ?? recoveryError
                    ?? .requestTimedOut(api: "Produce", timeoutMs: configuration.deliveryTimeoutMs)
                fail(batch, cause, deliveryTimedOut: true)
            }
        }
    }
}
