import Foundation
import Hummingbird

/// The HTTP endpoints: moderation and classify (scored through the batcher), models, health, metrics.
struct ServingRoutes: Sendable {
    let catalog: GuardCatalog
    let batcher: InferenceBatcher
    let metrics: ServingMetrics
    let limits: RequestLimits
    let state: ServerState

    func register(on router: Router<ServingContext>) {
        router.add(middleware: RequestAccounting(metrics: metrics))
        router.get("/healthz") { _, _ in JSONResponse.make(["status": "ok"]) }
        router.get("/readyz") { _, _ -> Response in
            state.draining ? JSONResponse.make(status: .serviceUnavailable, ["status": "draining"])
                           : JSONResponse.make(["status": "ready", "models": catalog.models.count])
        }
        router.get("/v1/models") { _, _ in JSONResponse.make(modelList()) }
        router.get("/metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.render())))
        }
        router.post("/v1/moderations") { request, context -> Response in
            var request = request
            let queued = QueuedOnce(batcher)
            defer { queued.done() }
            let parsed = try ModerationRequest(json: try await JSONBody.read(&request, limits: limits), catalog: catalog, limits: limits)
            context.modelLabel.set(parsed.modelLabel)
            let scores = try await scoreAll(parsed.policies.map { ($0, parsed.inputs) }, queued: queued)
            return JSONResponse.make(ModerationResponse.json(id: "modr-\(UUID().uuidString.lowercased())", model: parsed.modelLabel,
                                                             policies: parsed.policies.map { catalog.policies[$0] },
                                                             scores: scores, inputCount: parsed.inputs.count))
        }
        router.post("/v1/classify") { request, context -> Response in
            var request = request
            let queued = QueuedOnce(batcher)
            defer { queued.done() }
            let parsed = try ClassifyRequest(json: try await JSONBody.read(&request, limits: limits), catalog: catalog, limits: limits)
            // One job per policy named, so items of one policy are batched together.
            let used = Array(Set(parsed.items.map(\.policy))).sorted()
            context.modelLabel.set(Set(used.map { catalog.models[catalog.policies[$0].modelIndex].name }).sorted().joined(separator: ","))
            let scores = try await scoreAll(used.map { p in (p, parsed.items.filter { $0.policy == p }.map(\.text)) }, queued: queued)
            var next = [Int](repeating: 0, count: catalog.policies.count)
            let answers: [[String: Any]] = parsed.items.map { item in
                let u = used.firstIndex(of: item.policy)!
                let score = scores[u][next[item.policy]]
                next[item.policy] += 1
                let policy = catalog.policies[item.policy]
                return ["label": score >= policy.threshold ? "unsafe" : "safe", "score": Double(score), "policy": policy.id]
            }
            return JSONResponse.make(parsed.single ? answers[0] as Any : answers as Any)
        }
    }

    /// Scores each (policy, texts) pair as one batcher job; results in the order given.
    private func scoreAll(_ parts: [(Int, [String])], queued: QueuedOnce) async throws -> [[Float]] {
        try await queued.score(parts.map { InferenceBatcher.Part(policy: $0.0, texts: $0.1) })
    }

    private func modelList() -> [String: Any] {
        ["object": "list", "data": catalog.models.map { m -> [String: Any] in
            let meta = m.guardModel.metadata
            return ["id": m.name, "object": "model", "owned_by": "uniguard", "policies": m.policyIDs,
                    "input_format": meta.inputFormat.rawValue, "threshold": Double(meta.threshold), "max_length": meta.maxLength]
        }]
    }
}

/// A scoring request as the batcher sees it: announced on arrival (so the batcher may wait for it), then either
/// scored or abandoned (a bad request), exactly once.
final class QueuedOnce: @unchecked Sendable {
    private let batcher: InferenceBatcher
    private let lock = NSLock()
    private var announced = true
    init(_ batcher: InferenceBatcher) { self.batcher = batcher; batcher.requestArriving() }
    private func take() -> Bool { lock.lock(); defer { lock.unlock() }; let was = announced; announced = false; return was }
    func score(_ parts: [InferenceBatcher.Part]) async throws -> [[Float]] { try await batcher.scores(parts, arrived: take()) }
    func done() { if take() { batcher.requestAbandoned() } }
}

/// The request context: Hummingbird's core storage plus which model answered (set by a handler, read by the
/// accounting middleware for per-model metrics).
struct ServingContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let modelLabel = ModelLabel()
    init(source: Source) { coreContext = .init(source: source) }
}

/// A per-request mutable label (the context is passed by value; the label is shared by reference).
final class ModelLabel: @unchecked Sendable {
    private let lock = NSLock()
    private var value = ""
    func set(_ v: String) { lock.lock(); value = v; lock.unlock() }
    func get() -> String { lock.lock(); defer { lock.unlock() }; return value }
}
