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
            let parsed = try ModerationRequest(json: try await JSONBody.read(&request, limits: limits), catalog: catalog, limits: limits)
            context.modelLabel.set(parsed.modelLabel)
            let scores = try await scoreAll(parsed.policies.map { ($0, parsed.inputs) })
            return JSONResponse.make(ModerationResponse.json(id: "modr-\(UUID().uuidString.lowercased())", model: parsed.modelLabel,
                                                             policies: parsed.policies.map { catalog.policies[$0] },
                                                             scores: scores, inputCount: parsed.inputs.count))
        }
        router.post("/v1/classify") { request, context -> Response in
            var request = request
            let parsed = try ClassifyRequest(json: try await JSONBody.read(&request, limits: limits), catalog: catalog, limits: limits)
            // One job per policy named, so items of one policy are batched together.
            let used = Array(Set(parsed.items.map(\.policy))).sorted()
            context.modelLabel.set(Set(used.map { catalog.models[catalog.policies[$0].modelIndex].name }).sorted().joined(separator: ","))
            let scores = try await scoreAll(used.map { p in (p, parsed.items.filter { $0.policy == p }.map(\.text)) })
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

    /// Scores each (policy, texts) job concurrently through the batcher; results in the order given.
    private func scoreAll(_ jobs: [(Int, [String])]) async throws -> [[Float]] {
        try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
            for (i, job) in jobs.enumerated() {
                group.addTask { (i, try await batcher.scores(policy: job.0, texts: job.1)) }
            }
            var out = [[Float]](repeating: [], count: jobs.count)
            for try await (i, s) in group { out[i] = s }
            return out
        }
    }

    private func modelList() -> [String: Any] {
        ["object": "list", "data": catalog.models.map { m -> [String: Any] in
            let meta = m.guardModel.metadata
            return ["id": m.name, "object": "model", "owned_by": "uniguard", "policies": m.policyIDs,
                    "input_format": meta.inputFormat.rawValue, "threshold": Double(meta.threshold), "max_length": meta.maxLength]
        }]
    }
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
