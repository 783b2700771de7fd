import Foundation
import CoreMetrics
import Metrics
import Prometheus

/// The server's Prometheus metrics, made through swift-metrics on a registry of the server's own (so two servers in
/// one process, as in the tests, keep separate counts); `GET /metrics` renders the registry.
public final class ServingMetrics: @unchecked Sendable {
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    private let modelNames: [String]
    private let batchSizes: [CoreMetrics.Recorder]
    private let inferenceTimes: [CoreMetrics.Timer]
    private let queueWaits: [CoreMetrics.Timer]
    private let failures: [CoreMetrics.Counter]
    private let inputCounts: [CoreMetrics.Counter]
    /// Model inputs waiting for the inference thread.
    let queueDepth: CoreMetrics.Gauge
    private let lock = NSLock()
    private var requestCounters: [String: CoreMetrics.Counter] = [:]
    private var latencyTimers: [String: CoreMetrics.Timer] = [:]

    public init(catalog: GuardCatalog) {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        let batchBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256]
        factory.valueHistogramBuckets["uniguard_serve_batch_size"] = batchBuckets
        let fine: [Duration] = [.microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                                .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                                .seconds(1), .seconds(2.5), .seconds(5), .seconds(10)]
        factory.defaultDurationHistogramBuckets = fine
        self.factory = factory
        modelNames = catalog.models.map(\.name)
        batchSizes = modelNames.map { CoreMetrics.Recorder(label: "uniguard_serve_batch_size", dimensions: [("model", $0)], aggregate: true, factory: factory) }
        inferenceTimes = modelNames.map { CoreMetrics.Timer(label: "uniguard_serve_inference_seconds", dimensions: [("model", $0)], factory: factory) }
        queueWaits = modelNames.map { CoreMetrics.Timer(label: "uniguard_serve_queue_wait_seconds", dimensions: [("model", $0)], factory: factory) }
        failures = modelNames.map { CoreMetrics.Counter(label: "uniguard_serve_inference_failures_total", dimensions: [("model", $0)], factory: factory) }
        inputCounts = modelNames.map { CoreMetrics.Counter(label: "uniguard_serve_inputs_total", dimensions: [("model", $0)], factory: factory) }
        queueDepth = CoreMetrics.Gauge(label: "uniguard_serve_queue_depth", factory: factory)
    }

    /// One scoring call of `inputs` model inputs on model `model`.
    func batch(model: Int, inputs: Int, seconds: Duration) {
        batchSizes[model].record(inputs)
        inputCounts[model].increment(by: inputs)
        inferenceTimes[model].recordNanoseconds(seconds.nanoseconds)
    }

    /// Time a job waited before its batch started, per model it uses.
    func queueWait(model: Int) -> QueueWaitRecorder { QueueWaitRecorder(timer: queueWaits[model]) }

    func inferenceFailures(model: Int) -> CoreMetrics.Counter { failures[model] }

    /// A finished HTTP request: count by endpoint and status class, latency by endpoint and model ("" if none).
    func request(endpoint: String, model: String, status: Int, duration: Duration) {
        let key = "\(endpoint)|\(model)|\(status)"
        let latencyKey = "\(endpoint)|\(model)"
        lock.lock()
        let counter = requestCounters[key] ?? {
            let c = CoreMetrics.Counter(label: "uniguard_serve_requests_total",
                            dimensions: [("endpoint", endpoint), ("model", model), ("status", String(status))], factory: factory)
            requestCounters[key] = c
            return c
        }()
        let timer = latencyTimers[latencyKey] ?? {
            let t = CoreMetrics.Timer(label: "uniguard_serve_request_duration_seconds",
                                      dimensions: [("endpoint", endpoint), ("model", model)], factory: factory)
            latencyTimers[latencyKey] = t
            return t
        }()
        lock.unlock()
        counter.increment()
        timer.recordNanoseconds(duration.nanoseconds)
        if status >= 400 { errorCounter(endpoint: endpoint, status: status).increment() }
    }

    private var errorCounters: [String: CoreMetrics.Counter] = [:]
    private func errorCounter(endpoint: String, status: Int) -> CoreMetrics.Counter {
        lock.lock(); defer { lock.unlock() }
        let key = "\(endpoint)|\(status)"
        if let c = errorCounters[key] { return c }
        let c = CoreMetrics.Counter(label: "uniguard_serve_errors_total", dimensions: [("endpoint", endpoint), ("status", String(status))], factory: factory)
        errorCounters[key] = c
        return c
    }

    /// Prometheus text exposition format of every metric.
    public func render() -> [UInt8] { registry.emitToBuffer() }
}

/// Records one queue wait (a small wrapper so the batcher reads as `metrics.queueWait(policy:).record(d)`).
struct QueueWaitRecorder {
    let timer: CoreMetrics.Timer
    func record(_ d: Duration) { timer.recordNanoseconds(d.nanoseconds) }
}

extension Duration {
    /// Whole nanoseconds (saturating), for swift-metrics' timers.
    var nanoseconds: Int64 {
        let c = components
        return c.seconds >= Int64.max / 1_000_000_000 ? .max : c.seconds * 1_000_000_000 + c.attoseconds / 1_000_000_000
    }
}
