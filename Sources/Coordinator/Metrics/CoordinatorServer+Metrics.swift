import Cluster
import Foundation
import Runtime

/// The metrics endpoint's life with the server (`[metrics] listen`): started with it, fed a snapshot of the event
/// loop's state about once a second, stopped at shutdown. Without the key nothing here runs.
extension CoordinatorServer {
    /// How often gauges follow the loop's state (a scrape every 15 s or so sees at most this much lag).
    static let metricsRefreshInterval: Duration = .seconds(1)

    /// Starts `GET /metrics` when configured; throws (and the coordinator does not start) when it cannot listen.
    func startMetrics() throws {
        guard let listen = config.metricsListen else { return }
        let metrics = CoordinatorMetrics()
        let endpoint = MetricsEndpoint(registry: metrics.registry, listen: listen, logger: logger)
        let port = try endpoint.start()
        metrics.endpoint = endpoint
        self.metrics = metrics
        store.db.onCommit = { [metrics] in metrics.storeCommitted($0) }
        refreshMetrics()
        let url = "http://\(ListenAddress(host: listen.host, port: port))/metrics"
        // The resolved address, for scripts and tests that listen on port 0.
        try? (url + "\n").write(toFile: config.databasePath + ".metrics-endpoint", atomically: true, encoding: .utf8)
        logger.info("metrics at \(url)")
    }

    func stopMetrics() {
        metrics?.endpoint?.stop()
        metrics?.endpoint = nil
    }

    /// Brings the gauges up to date when the last refresh is older than `metricsRefreshInterval`.
    func refreshMetricsIfDue() {
        guard let metrics, ContinuousClock.now - metrics.lastRefresh >= Self.metricsRefreshInterval else { return }
        refreshMetrics()
    }

    private func refreshMetrics() {
        guard let metrics else { return }
        metrics.lastRefresh = .now
        let nowMs = UnixTime.nowMs()
        let members = membership.members.values
        metrics.workersLive.record(members.count)
        metrics.workerSlots.record(members.reduce(0) { $0 + $1.slots })
        metrics.workersQuarantined.record(members.filter { failures.isQuarantined($0.id, nowUnixMs: nowMs) }.count)
        let trainingRanks = trainingJobs.values.reduce(0) { sum, job in
            sum + (job.state == .running ? job.current?.ranks.filter { $0.result == nil }.count ?? 0 : 0)
        }
        metrics.leasesOutstanding.record(leases.tasks.values.filter { $0.state == .leased }.count + trainingRanks)
        metrics.tasksQueued.record(leases.queuedCount)
        metrics.countArms(total: jobs.values.reduce(0) { $0 + $1.armsDone })
        do { metrics.jobs(try store.jobCountsByKindAndState()) } catch {
            logger.warning("metrics: cannot count jobs in the store: \(error)")
        }
        metrics.training(trainingJobs.values.filter { $0.state == .running }.map(Self.figures))
    }

    private static func figures(_ job: TrainingRuntime) -> TrainingFigures {
        let ranks = job.current?.ranks ?? []
        let progress = job.current == nil ? nil : job.progress
        return TrainingFigures(job: job.id, kind: job.prepared.spec.kind.rawValue, step: job.step, steps: job.totalSteps,
                               ranks: ranks.count, loss: progress.map(\.loss),
                               stepSeconds: (ranks.map(\.stepMs).max() ?? 0) / 1000,
                               allreduceSeconds: (ranks.map(\.allreduceMs).max() ?? 0) / 1000,
                               samplesPerSecond: progress?.samplesPerSecond ?? 0)
    }
}
