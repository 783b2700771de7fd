import Foundation
import Guards

/// Dynamic batching of scoring jobs onto one dedicated inference thread.
///
/// Inference is CPU-bound BLAS work, so it never runs on SwiftNIO's event loops: HTTP handlers enqueue a job and
/// suspend; the inference thread takes every job waiting, up to `maxBatch` model inputs or until the oldest job has
/// waited `maxWait`, and scores each model's share in one call (`GuardModel.scores` sorts inputs by length).
public final class InferenceBatcher: @unchecked Sendable {
    /// What a handler asks for: the texts to score under one served policy.
    struct Job {
        let policy: Int
        let texts: [String]
        let enqueued: ContinuousClock.Instant
        let continuation: CheckedContinuation<[Float], any Error>
    }

    private let catalog: GuardCatalog
    private let maxBatch: Int
    private let maxWait: Duration
    private let metrics: ServingMetrics
    // NSCondition rather than an actor: the consumer is a plain thread that must block, not a task.
    private let condition = NSCondition()
    private var pending: [Job] = []
    private var pendingInputs = 0
    private var stopping = false
    private let finished = DispatchSemaphore(value: 0)
    private var started = false

    public init(catalog: GuardCatalog, maxBatch: Int, maxWait: Duration, metrics: ServingMetrics) {
        self.catalog = catalog; self.maxBatch = max(1, maxBatch); self.maxWait = maxWait; self.metrics = metrics
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

    /// Scores `texts` under policy `policy`; suspends until the batch holding them has run.
    public func scores(policy: Int, texts: [String]) async throws -> [Float] {
        if texts.isEmpty { return [] }
        return try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            if stopping {
                condition.unlock()
                continuation.resume(throwing: APIError(.serviceUnavailable, "the server is shutting down", type: "server_error"))
                return
            }
            pending.append(Job(policy: policy, texts: texts, enqueued: .now, continuation: continuation))
            pendingInputs += texts.count
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
            for job in batch { metrics.queueWait(policy: job.policy).record(start - job.enqueued) }
            // One scoring call per model: its inputs from every job in the batch.
            for model in Set(batch.map { catalog.policies[$0.policy].modelIndex }).sorted() {
                let jobs = batch.filter { catalog.policies[$0.policy].modelIndex == model }
                runJobs(jobs, model: model)
            }
        }
    }

    private func runJobs(_ jobs: [Job], model: Int) {
        let guardModel = catalog.models[model].guardModel
        let inputs = jobs.flatMap { job in
            job.texts.map { guardModel.input(for: $0, policyText: catalog.policies[job.policy].instruction) }
        }
        let started = ContinuousClock.now
        do {
            let scores = try guardModel.scores(inputs: inputs, batchSize: maxBatch)
            metrics.batch(model: model, inputs: inputs.count, seconds: started.duration(to: .now))
            var offset = 0
            for job in jobs {
                job.continuation.resume(returning: Array(scores[offset..<offset + job.texts.count]))
                offset += job.texts.count
            }
        } catch {
            // One request's bad input (a non-finite score) must not fail the others batched with it.
            if jobs.count > 1 {
                for job in jobs { runJobs([job], model: model) }
            } else {
                metrics.inferenceFailures(model: model).increment()
                jobs[0].continuation.resume(throwing: APIError(.internalServerError, "scoring failed: \(error)", type: "server_error"))
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
        while pendingInputs < maxBatch && !stopping {
            let left = ContinuousClock.now.duration(to: deadline)
            if left <= .zero { break }
            let c = left.components
            _ = condition.wait(until: Date(timeIntervalSinceNow: Double(c.seconds) + Double(c.attoseconds) * 1e-18))
        }
        // Whole jobs up to maxBatch inputs; a job larger than maxBatch runs alone (scores() splits it).
        var taken = 0, count = 0
        while count < pending.count && (count == 0 || taken + pending[count].texts.count <= maxBatch) {
            taken += pending[count].texts.count; count += 1
        }
        let batch = Array(pending.prefix(count))
        pending.removeFirst(count)
        pendingInputs -= taken
        metrics.queueDepth.record(pendingInputs)
        return batch
    }
}
