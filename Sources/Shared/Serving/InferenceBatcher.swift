import Foundation
import Guards

/// Dynamic batching of scoring requests onto one dedicated inference thread.
///
/// Inference is CPU-bound BLAS work, so it never runs on SwiftNIO's event loops: an HTTP handler queues its
/// request's work as one job and suspends; the inference thread takes every job waiting, up to `maxBatch` model
/// inputs or until the oldest job has waited `maxWait`, and scores each model's share of the batch in one call
/// (`GuardModel.scores` sorts inputs by length). It waits only while some request being read has not queued its job
/// yet: a lone request (or a queue that already holds every request in flight) runs at once instead of paying `maxWait`
/// (`BatchWaitPolicy.arrivals`; `.always` waits the full `maxWait` for a batch that is not full).
public final class InferenceBatcher: @unchecked Sendable {
    /// Texts to score under one served policy.
    public struct Part: Sendable {
        public let policy: Int
        public let texts: [String]
        public init(policy: Int, texts: [String]) { self.policy = policy; self.texts = texts }
    }

    /// One request's parts; resumed with one score list per part once every part has run.
    final class Job {
        let parts: [Part]
        let inputs: Int
        let enqueued: ContinuousClock.Instant
        let continuation: CheckedContinuation<[[Float]], any Error>
        var scores: [[Float]]
        var failure: (any Error)?
        init(parts: [Part], continuation: CheckedContinuation<[[Float]], any Error>) {
            self.parts = parts; self.continuation = continuation
            inputs = parts.reduce(0) { $0 + $1.texts.count }
            enqueued = .now
            scores = parts.map { _ in [] }
        }
    }

    private let catalog: GuardCatalog
    private let maxBatch: Int
    private let maxWait: Duration
    private let waitPolicy: BatchWaitPolicy
    private let metrics: ServingMetrics
    // NSCondition rather than an actor: the consumer is a plain thread that must block, not a task.
    private let condition = NSCondition()
    private var pending: [Job] = []
    private var pendingInputs = 0
    private var stopping = false
    /// Scoring requests accepted whose job is not queued yet (see `requestArriving`).
    private var arriving = 0
    private let finished = DispatchSemaphore(value: 0)
    private var started = false

    public init(catalog: GuardCatalog, maxBatch: Int, maxWait: Duration, waitPolicy: BatchWaitPolicy = .arrivals, metrics: ServingMetrics) {
        self.catalog = catalog; self.maxBatch = max(1, maxBatch); self.maxWait = maxWait; self.waitPolicy = waitPolicy
        self.metrics = metrics
    }

    /// Starts the inference thread.
    public func start() {
        condition.lock(); defer { condition.unlock() }
        guard !started else { return }
        started = true
        let thread = Thread { [self] in run(); finished.signal() }
        thread.name = "uniguard-inference"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// A scoring request has arrived (its body is being read): the batcher may wait for its job. Balance with
    /// `scores(_:arrived: true)` or, when the request fails before scoring, `requestAbandoned()`.
    public func requestArriving() {
        condition.lock(); arriving += 1; condition.unlock()
    }

    /// A request announced by `requestArriving` will queue nothing.
    public func requestAbandoned() {
        condition.lock(); arriving -= 1; condition.signal(); condition.unlock()
    }

    /// Scores every part; suspends until the batch holding them has run. `arrived`: the request was announced
    /// with `requestArriving`.
    public func scores(_ parts: [Part], arrived: Bool = false) async throws -> [[Float]] {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            if arrived { arriving -= 1 }
            if stopping {
                condition.signal()
                condition.unlock()
                continuation.resume(throwing: APIError(.serviceUnavailable, "the server is shutting down", type: "server_error"))
                return
            }
            let job = Job(parts: parts, continuation: continuation)
            pending.append(job)
            pendingInputs += job.inputs
            metrics.queueDepth.record(pendingInputs)
            condition.signal()
            condition.unlock()
        }
    }

    /// Refuses new jobs, runs every job already queued, then ends the inference thread (graceful drain).
    public func shutdown() {
        condition.lock()
        let wasStarted = started
        stopping = true
        condition.broadcast()
        condition.unlock()
        if wasStarted { finished.wait() }
    }

    private func run() {
        while let batch = nextBatch() {
            let start = ContinuousClock.now
            for job in batch {
                for model in Set(job.parts.map { catalog.policies[$0.policy].modelIndex }) {
                    metrics.queueWait(model: model).record(start - job.enqueued)
                }
            }
            // One scoring call per model: its parts from every job in the batch.
            let models = Set(batch.flatMap { $0.parts.map { catalog.policies[$0.policy].modelIndex } }).sorted()
            for model in models {
                let parts = batch.flatMap { job in
                    job.parts.indices.filter { catalog.policies[job.parts[$0].policy].modelIndex == model }.map { (job, $0) }
                }
                score(parts, model: model)
            }
            for job in batch {
                if let failure = job.failure { job.continuation.resume(throwing: failure) } else { job.continuation.resume(returning: job.scores) }
            }
        }
    }

    /// Scores `parts` (job, part index) of one model in one call and stores each part's scores in its job.
    private func score(_ parts: [(Job, Int)], model: Int) {
        let guardModel = catalog.models[model].guardModel
        let inputs = parts.flatMap { job, p in
            job.parts[p].texts.map { guardModel.input(for: $0, policyText: catalog.policies[job.parts[p].policy].instruction) }
        }
        if inputs.isEmpty { return }
        let started = ContinuousClock.now
        do {
            let scores = try guardModel.scores(inputs: inputs, batchSize: maxBatch)
            metrics.batch(model: model, inputs: inputs.count, seconds: started.duration(to: .now))
            var offset = 0
            for (job, p) in parts {
                let n = job.parts[p].texts.count
                job.scores[p] = Array(scores[offset..<offset + n])
                offset += n
            }
        } catch {
            // One request's bad input (a non-finite score) must not fail the others batched with it.
            if parts.count > 1 {
                for part in parts { score([part], model: model) }
            } else {
                metrics.inferenceFailures(model: model).increment()
                parts[0].0.failure = APIError(.internalServerError, "scoring failed: \(error)", type: "server_error")
            }
        }
    }

    /// Blocks until a batch is due; nil once stopping with nothing left to run.
    private func nextBatch() -> [Job]? {
        condition.lock(); defer { condition.unlock() }
        while pending.isEmpty {
            if stopping { return nil }
            condition.wait()
        }
        let deadline = pending[0].enqueued + maxWait
        while pendingInputs < maxBatch && !stopping && (arriving > 0 || waitPolicy == .always) {
            let left = ContinuousClock.now.duration(to: deadline)
            if left <= .zero { break }
            let c = left.components
            _ = condition.wait(until: Date(timeIntervalSinceNow: Double(c.seconds) + Double(c.attoseconds) * 1e-18))
        }
        // Whole jobs up to maxBatch inputs; a job larger than maxBatch runs alone (scores() splits it).
        var taken = 0, count = 0
        while count < pending.count && (count == 0 || taken + pending[count].inputs <= maxBatch) {
            taken += pending[count].inputs; count += 1
        }
        let batch = Array(pending.prefix(count))
        pending.removeFirst(count)
        pendingInputs -= taken
        metrics.queueDepth.record(pendingInputs)
        return batch
    }
}

/// When a batch that is not full waits (up to `maxWait`) before it runs.
public enum BatchWaitPolicy: String, Sendable, CaseIterable {
    /// Only while requests that have arrived are still being read (no wait for a lone request).
    case arrivals
    /// Always, up to `maxWait` (the classic dynamic batcher).
    case always
}
