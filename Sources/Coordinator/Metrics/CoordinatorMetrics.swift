import CoreMetrics
import Foundation
import Prometheus

/// The coordinator's Prometheus metrics, made through swift-metrics on a registry of its own (`GET /metrics` renders
/// it). Gauges are set from a snapshot of the event loop's state (`CoordinatorServer.refreshMetricsIfDue`); counters
/// and the commit histogram are fed where their events happen. Only the event loop thread writes; the HTTP thread
/// only renders (the registry is thread-safe).
final class CoordinatorMetrics {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory

    let workersLive: CoreMetrics.Gauge
    let workerSlots: CoreMetrics.Gauge
    let workersQuarantined: CoreMetrics.Gauge
    let leasesOutstanding: CoreMetrics.Gauge
    let tasksQueued: CoreMetrics.Gauge
    let armsEvaluated: CoreMetrics.Counter
    let storeCommits: CoreMetrics.Timer
    let startTime: CoreMetrics.Gauge
    /// Jobs by (kind, state): every pair seen stays a series (0 when no job is in it), so a dashboard's lines do not vanish.
    private var jobGauges: [JobKey: CoreMetrics.Gauge] = [:]
    private var rejections: [String: CoreMetrics.Counter] = [:]
    /// Per running training job; removed when the job stops running, so finished jobs leave no stale series.
    private var trainingGauges: [String: TrainingGauges] = [:]
    /// The HTTP side, while it runs.
    var endpoint: MetricsEndpoint?
    var lastRefresh = ContinuousClock.now
    /// Arms evaluated as last counted (the counter follows the sum over jobs, which only grows).
    private var armsCounted = 0

    struct JobKey: Hashable {
        let kind: String
        let state: String
    }

    /// Kinds and states shown as zero from the start.
    static let knownKinds = ["merge-search", "pretrain", "finetune"]
    static let knownStates = ["running", "exporting", "done", "cancelled", "failed"]

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        // SQLite commits: tens of microseconds (no fsync) to seconds (a stalled disk).
        factory.durationHistogramBuckets["uniguard_coordinator_store_commit_seconds"] = [
            .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .seconds(1), .seconds(5),
        ]
        self.factory = factory
        workersLive = CoreMetrics.Gauge(label: "uniguard_coordinator_workers_live", factory: factory)
        workerSlots = CoreMetrics.Gauge(label: "uniguard_coordinator_worker_slots", factory: factory)
        workersQuarantined = CoreMetrics.Gauge(label: "uniguard_coordinator_workers_quarantined", factory: factory)
        leasesOutstanding = CoreMetrics.Gauge(label: "uniguard_coordinator_leases_outstanding", factory: factory)
        tasksQueued = CoreMetrics.Gauge(label: "uniguard_coordinator_tasks_queued", factory: factory)
        armsEvaluated = CoreMetrics.Counter(label: "uniguard_coordinator_arms_evaluated_total", factory: factory)
        storeCommits = CoreMetrics.Timer(label: "uniguard_coordinator_store_commit_seconds", factory: factory)
        startTime = CoreMetrics.Gauge(label: "uniguard_coordinator_start_time_seconds", factory: factory)
        startTime.record(Date().timeIntervalSince1970)
        for kind in Self.knownKinds { for state in Self.knownStates { _ = jobGauge(JobKey(kind: kind, state: state)) } }
        for reason in ResultRejection.metricReasons { _ = rejectionCounter(reason) }
    }

    /// Prometheus text exposition format of every metric.
    func render() -> [UInt8] { registry.emitToBuffer() }

    // MARK: Events

    /// A worker's result that did not count, by a short reason label.
    func resultRejected(_ reason: String) { rejectionCounter(reason).increment() }

    func resultRejected(_ rejection: ResultRejection) { resultRejected(rejection.metricReason) }

    /// One committed store transaction.
    func storeCommitted(_ duration: Duration) {
        let c = duration.components
        storeCommits.recordNanoseconds(c.seconds * 1_000_000_000 + c.attoseconds / 1_000_000_000)
    }

    // MARK: Snapshot updates

    /// The total of arms evaluated over every job in the store's memory.
    func countArms(total: Int) {
        if total > armsCounted { armsEvaluated.increment(by: total - armsCounted) }
        armsCounted = max(armsCounted, total)
    }

    func jobs(_ counts: [JobKey: Int]) {
        for key in counts.keys where jobGauges[key] == nil { _ = jobGauge(key) }
        for (key, gauge) in jobGauges { gauge.record(counts[key] ?? 0) }
    }

    /// The running training jobs' latest figures; jobs not listed lose their series.
    func training(_ jobs: [TrainingFigures]) {
        let running = Set(jobs.map(\.job))
        for (job, gauges) in trainingGauges where !running.contains(job) {
            gauges.destroy()
            trainingGauges[job] = nil
        }
        for figures in jobs {
            let gauges = trainingGauges[figures.job] ?? TrainingGauges(job: figures.job, kind: figures.kind, factory: factory)
            trainingGauges[figures.job] = gauges
            gauges.record(figures)
        }
    }

    // MARK: Series made on first use

    private func jobGauge(_ key: JobKey) -> CoreMetrics.Gauge {
        if let gauge = jobGauges[key] { return gauge }
        let gauge = CoreMetrics.Gauge(label: "uniguard_coordinator_jobs", dimensions: [("kind", key.kind), ("state", key.state)], factory: factory)
        jobGauges[key] = gauge
        return gauge
    }

    private func rejectionCounter(_ reason: String) -> CoreMetrics.Counter {
        if let counter = rejections[reason] { return counter }
        let counter = CoreMetrics.Counter(label: "uniguard_coordinator_result_rejections_total", dimensions: [("reason", reason)], factory: factory)
        rejections[reason] = counter
        return counter
    }
}

/// A running training job's latest figures, from its ranks' TrainProgress reports.
struct TrainingFigures {
    var job: String
    var kind: String
    /// Steps completed, of `steps`.
    var step: Int
    var steps: Int
    /// Ranks in the current generation (0 while it waits for workers).
    var ranks: Int
    /// The newest progress report's loss (a global mean: any rank's will do); nil before the first report.
    var loss: Double?
    /// The slowest rank's last step, and the slowest rank's all-reduce part, in seconds.
    var stepSeconds: Double
    var allreduceSeconds: Double
    var samplesPerSecond: Double
}

/// The gauges of one training job (labels job_id and kind: `job` is the label Prometheus gives every scrape target).
final class TrainingGauges {
    let step, steps, ranks, loss, stepSeconds, allreduceSeconds, samplesPerSecond: CoreMetrics.Gauge

    init(job: String, kind: String, factory: PrometheusMetricsFactory) {
        func gauge(_ name: String) -> CoreMetrics.Gauge {
            CoreMetrics.Gauge(label: "uniguard_coordinator_training_\(name)", dimensions: [("job_id", job), ("kind", kind)], factory: factory)
        }
        step = gauge("step")
        steps = gauge("steps")
        ranks = gauge("ranks")
        loss = gauge("loss")
        stepSeconds = gauge("step_seconds")
        allreduceSeconds = gauge("allreduce_seconds")
        samplesPerSecond = gauge("samples_per_second")
    }

    func record(_ f: TrainingFigures) {
        step.record(f.step)
        steps.record(f.steps)
        ranks.record(f.ranks)
        // NaN until the first report: Prometheus shows no value rather than a fake zero loss.
        loss.record(f.loss ?? .nan)
        stepSeconds.record(f.stepSeconds)
        allreduceSeconds.record(f.allreduceSeconds)
        samplesPerSecond.record(f.samplesPerSecond)
    }

    func destroy() {
        for gauge in [step, steps, ranks, loss, stepSeconds, allreduceSeconds, samplesPerSecond] { gauge.destroy() }
    }
}

extension ResultRejection {
    /// Every reason label, so each series exists (at 0) from the start.
    static let metricReasons = ["not_leased", "not_holder", "stale_attempt", "already_done", "invalid_result"]

    /// A short, fixed label (the holder's id stays out: labels must not grow with input).
    var metricReason: String {
        switch self {
        case .notLeased: "not_leased"
        case .notHolder: "not_holder"
        case .staleAttempt: "stale_attempt"
        case .alreadyDone: "already_done"
        }
    }
}
