import Cluster
import Foundation
import Fusion
import GRDB
import Guards

/// Arms issued and completed with their summed counts, and the task leases behind them.
extension JobStore {
    func insertArm(job: String, arm: MergeArm, shardCount: Int, issuedMs: UInt64) throws {
        try db.execute("""
            INSERT INTO arms(job_id, arm_id, arm_json, state, shard_count, issued_ms) VALUES(?, ?, ?, 'issued', ?, ?)
            """, [job, arm.id.rawValue, try Self.json(arm), shardCount, try StoredInteger.signed(issuedMs, "arms.issued_ms")])
    }

    func completeArm(job: String, arm: Int, counts: ConfusionCounts, record: SearchRecord, completedMs: UInt64) throws {
        try db.execute("""
            UPDATE arms SET state = 'done', completed_ms = ?, tp = ?, fp = ?, tn = ?, fn = ?, f1 = ?, iteration = ?,
                            seconds = ? WHERE job_id = ? AND arm_id = ?
            """, [try StoredInteger.signed(completedMs, "arms.completed_ms"), counts.tp, counts.fp, counts.tn, counts.fn,
                  record.f1, record.iteration, record.seconds, job, arm])
    }

    func abandonArms(job: String) throws {
        try db.execute("UPDATE arms SET state = 'abandoned' WHERE job_id = ? AND state = 'issued'", [job])
    }

    func loadArms(job: String) throws -> [StoredArm] {
        try db.map("""
            SELECT a.arm_json, a.state, a.shard_count, a.issued_ms, a.completed_ms, a.tp, a.fp, a.tn, a.fn, a.f1,
                   a.iteration, a.seconds,
                   (SELECT GROUP_CONCAT(DISTINCT t.worker_id) FROM tasks t
                     WHERE t.job_id = a.job_id AND t.arm_id = a.arm_id AND t.state = 'done'),
                   (SELECT MAX(t.attempt) FROM tasks t WHERE t.job_id = a.job_id AND t.arm_id = a.arm_id)
            FROM arms a WHERE a.job_id = ? ORDER BY a.arm_id
            """, [job]) { row in
            StoredArm(jobID: job, arm: try Self.decode(MergeArm.self, try row.value(0)), state: try row.value(1),
                      shardCount: try row.value(2), issuedMs: try row.unsigned(3, "arms.issued_ms"),
                      completedMs: try row.unsignedIfPresent(4, "arms.completed_ms"), counts: try Self.counts(row, from: 5),
                      f1: try row.value(9), iteration: try row.value(10), seconds: try row.value(11),
                      workers: try row.value(12) ?? "", attempts: try row.value(13) ?? 0)
        }
    }

    func insertTask(_ lease: TaskLease) throws {
        try db.execute("""
            INSERT INTO tasks(id, job_id, arm_id, shard, state, worker_id, attempt, lease_deadline_ms, leased_ms)
            VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [lease.taskID, lease.jobID, lease.armID, lease.shard, lease.state.rawValue, lease.workerID, lease.attempt,
                  try StoredInteger.signed(lease.deadlineUnixMs, "tasks.lease_deadline_ms"),
                  try StoredInteger.signed(lease.leasedAtUnixMs, "tasks.leased_ms")])
    }

    /// Writes a lease's state, holder, attempt and deadline.
    func updateLease(_ lease: TaskLease) throws {
        try db.execute("""
            UPDATE tasks SET state = ?, worker_id = ?, attempt = ?, lease_deadline_ms = ?, leased_ms = ? WHERE id = ?
            """, [lease.state.rawValue, lease.workerID, lease.attempt,
                  try StoredInteger.signed(lease.deadlineUnixMs, "tasks.lease_deadline_ms"),
                  try StoredInteger.signed(lease.leasedAtUnixMs, "tasks.leased_ms"), lease.taskID])
    }

    func completeTask(_ id: String, worker: String, counts: ConfusionCounts, elapsedMs: UInt64, completedMs: UInt64) throws {
        try db.execute("""
            UPDATE tasks SET state = 'done', worker_id = ?, tp = ?, fp = ?, tn = ?, fn = ?, elapsed_ms = ?,
                             completed_ms = ? WHERE id = ?
            """, [worker, counts.tp, counts.fp, counts.tn, counts.fn, try StoredInteger.signed(elapsedMs, "tasks.elapsed_ms"),
                  try StoredInteger.signed(completedMs, "tasks.completed_ms"), id])
    }

    func cancelTasks(job: String) throws {
        try db.execute("UPDATE tasks SET state = 'cancelled' WHERE job_id = ? AND state IN ('queued', 'leased')", [job])
    }

    func loadTasks(job: String) throws -> [StoredTask] {
        try db.map("""
            SELECT id, arm_id, shard, state, worker_id, attempt, lease_deadline_ms, leased_ms, tp, fp, tn, fn, elapsed_ms
            FROM tasks WHERE job_id = ? ORDER BY arm_id, shard
            """, [job]) { row in
            let lease = TaskLease(taskID: try row.value(0), jobID: job, armID: try row.value(1), shard: try row.value(2),
                                  state: TaskLease.State(rawValue: try row.value(3)) ?? .queued,
                                  workerID: try row.value(4), attempt: try row.value(5),
                                  deadlineUnixMs: try row.unsigned(6, "tasks.lease_deadline_ms"),
                                  leasedAtUnixMs: try row.unsigned(7, "tasks.leased_ms"))
            return StoredTask(lease: lease, counts: try Self.counts(row, from: 8),
                              elapsedMs: try row.unsignedIfPresent(12, "tasks.elapsed_ms") ?? 0)
        }
    }
}
