import Cluster
import Foundation
import Fusion
import Runtime

/// Timers and scheduling: liveness, lease expiry, heartbeats, and handing work to free slots.
extension CoordinatorServer {
    func tick() {
        let now = ContinuousClock.now
        let (due, dead) = membership.tick(at: now)
        for member in dead {
            logger.warning("worker \(member.id) missed \(config.liveness) heartbeats; returning its leases to the queue")
            workerGone(member, state: "dead")
        }
        let nowMs = UnixTime.nowMs()
        let holders = leases.expiring(nowUnixMs: nowMs)
        let expired = leases.expire(nowUnixMs: nowMs)
        if !expired.isEmpty {
            logger.warning("\(expired.count) task leases expired; requeued")
            persistLeases(expired, "expired leases")
        }
        // A lease that ran its full term is a failure of its holder (hung, or too slow): the retry goes to another
        // worker. A restart's shortened grace window running out is not the worker's fault.
        for lease in holders where lease.deadlineUnixMs >= lease.leasedAtUnixMs + UInt64(config.leaseTimeoutMs) {
            if synthesisLeaseExpired(lease) { continue }
            guard let worker = lease.workerID, let job = jobs[lease.jobID], job.state == .running else { continue }
            chargeFailure(lease.taskID, of: job, to: worker, reason: "lease expired after \(config.leaseTimeoutMs) ms")
        }
        // Training first: a job waiting for workers gets free slots before merge arms take them.
        scheduleTraining()
        planSynthesis()
        dispatch()
        checkpointStoreIfDue()
        for id in due {
            guard let member = membership.member(id) else { continue }
            var beat = Uniguard_V1_Heartbeat()
            beat.sentAtUnixMs = UnixTime.nowMs()
            send(.heartbeat(beat), to: member.routingID)
        }
    }

    /// A worker left or died: forget it and requeue everything it held.
    func workerGone(_ member: WorkerMember, state: String) {
        membership.leave(member.id)
        let requeued = leases.requeue(worker: member.id)
        do {
            try store.transaction {
                for lease in requeued { try store.updateLease(lease) }
                try store.setWorkerState(member.id, state, lastSeenMs: member.lastHeardUnixMs)
            }
        } catch { storeFailed(error, "worker departure") }
        if !requeued.isEmpty { logger.info("requeued \(requeued.count) tasks of worker \(member.id)") }
        trainingWorkerGone(member.id)
    }

    func persistLeases(_ changed: [TaskLease], _ what: String) {
        do { try store.transaction { for lease in changed { try store.updateLease(lease) } } } catch {
            storeFailed(error, what)
        }
    }

    /// Fills free slots: queued tasks first (oldest work), then new arms sampled from running jobs in
    /// submission order. Arms are sampled only when a slot is free, so arms in flight = free slots (or the
    /// job's batch cap). All decisions of one round are committed in one transaction before any is sent.
    func dispatch() {
        let now = UnixTime.nowMs()
        var free: [String: Int] = [:]
        // Quarantined workers get nothing until their quarantine ends.
        for member in membership.members.values where !failures.isQuarantined(member.id, nowUnixMs: now) {
            let slots = member.slots - leases.leasedCount(by: member.id) - trainingSlots(of: member.id)
            if slots > 0 { free[member.id] = slots }
        }
        guard !free.isEmpty else { return }
        // A training job waiting for workers holds back new arms of jobs submitted after it (first come, first
        // served), so the slots it needs free up instead of going to arm after arm.
        let armOrder = jobOrder.prefix { id in !(trainingJobs[id].map { $0.state == .running && $0.current == nil } ?? false) }
        var assignments: [(TaskLease, String)] = []
        var newArms: [(JobRuntime, MergeArm, [TaskLease])] = []
        // Pick the worker with the most free slots each time, so work spreads across machines.
        func nextWorker() -> String? {
            free.filter { $0.value > 0 }.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key
        }
        while let worker = nextWorker() {
            // A retried task goes to a worker that has not failed it.
            if let task = leases.nextQueued(where: {
                (self.jobs[$0.jobID]?.state == .running || self.synthesisMayLease($0, to: worker)) && self.failures.mayRun($0.taskID, on: worker, nowUnixMs: now)
            }) {
                guard let leased = leases.lease(task.taskID, to: worker, nowUnixMs: now, timeoutMs: config.leaseTimeoutMs)
                else { break }
                assignments.append((leased, worker))
                free[worker, default: 0] -= 1
                continue
            }
            guard let job = armOrder.lazy.compactMap({ self.jobs[$0] }).first(where: \.canIssueArm) else {
                // Nothing this worker may run; another worker may still take the queued retries.
                free[worker] = 0
                continue
            }
            let arm = job.run.ask()
            job.inFlight[arm.id.rawValue] = JobRuntime.ArmProgress(arm: arm)
            let tasks = (0..<job.shardCount).map { shard in
                TaskLease(taskID: TaskLease.id(job: job.id, arm: arm.id.rawValue, shard: shard), jobID: job.id,
                          armID: arm.id.rawValue, shard: shard)
            }
            for task in tasks { leases.insert(task) }
            newArms.append((job, arm, tasks))
        }
        guard !assignments.isEmpty || !newArms.isEmpty else { return }
        do {
            try store.transaction {
                for (job, arm, tasks) in newArms {
                    try store.insertArm(job: job.id, arm: arm, shardCount: tasks.count, issuedMs: now)
                    for task in tasks { try store.insertTask(task) }
                }
                for id in Set(newArms.map { $0.0.id }) {
                    if let job = jobs[id] { try store.saveSearch(job: id, job.run.engine) }
                }
                for (lease, _) in assignments { try store.updateLease(lease) }
            }
        } catch { storeFailed(error, "dispatch") }
        for (job, arm, _) in newArms {
            logger.debug("\(job.id): sampled arm \(arm.id) (\(arm.method.rawValue), \(arm.subset), weights \(arm.weights.map { String(format: "%.3f", $0) }))")
        }
        for (lease, worker) in assignments { sendAssignment(lease, to: worker) }
    }

    /// Sends a leased task; if the worker is unreachable the lease goes straight back to the queue.
    func sendAssignment(_ lease: TaskLease, to workerID: String) {
        if sendSynthesisAssignment(lease, to: workerID) { return }
        guard let job = jobs[lease.jobID], let member = membership.member(workerID),
              let arm = job.inFlight[lease.armID]?.arm
        else {
            if let requeued = leases.requeue(lease.taskID) { persistLeases([requeued], "requeue") }
            return
        }
        let assignment = job.prepared.assignment(arm: arm, shard: lease.shard, taskID: lease.taskID,
                                                 attempt: lease.attempt, deadlineUnixMs: lease.deadlineUnixMs,
                                                 sharedPaths: config.advertiseSharedPaths)
        if !send(.taskAssignment(assignment), to: member.routingID, jobID: job.id) {
            if let requeued = leases.requeue(lease.taskID) { persistLeases([requeued], "requeue") }
        }
    }
}
