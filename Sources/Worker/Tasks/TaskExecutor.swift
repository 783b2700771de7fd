import Cluster
import Foundation
import Fusion
import Guards

/// Runs one task on a slot thread: rebuilds the model directories from the cache, takes the validation shard,
/// merges and scores the arm with the evaluator the job names.
struct TaskExecutor: Sendable {
    let cache: BlobCache
    let evaluators: ArmEvaluatorRegistry

    func run(_ assignment: Uniguard_V1_TaskAssignment) -> Uniguard_V1_TaskResult {
        let started = ContinuousClock.now
        var result = Uniguard_V1_TaskResult()
        result.taskID = assignment.taskID
        result.attempt = assignment.attempt
        do {
            guard case .mergeArm(let task)? = assignment.kind else {
                throw WorkerError("this worker runs merge-arm tasks only")
            }
            let counts = try evaluate(task)
            var eval = Uniguard_V1_EvalResult()
            eval.counts = counts.wire
            eval.meanLatencyUs = 0
            result.eval = eval
        } catch {
            var failure = Uniguard_V1_Error()
            failure.code = .taskFailed
            failure.message = "\(error)"
            result.error = failure
        }
        result.elapsedMs = UInt64(max(0, (ContinuousClock.now - started) / .milliseconds(1)))
        return result
    }

    private func evaluate(_ task: Uniguard_V1_MergeArmTask) throws -> ConfusionCounts {
        let candidates = try task.models.map { try cache.materialize(ModelBlobSet(wire: $0)) }
        let base = task.hasBaseModel ? try cache.materialize(ModelBlobSet(wire: task.baseModel)) : nil
        let lines = try cache.validationLines(task.validation, size: task.validationSizeBytes)
        let (arm, space) = try MergeArmWire.armAndSpace(task, candidates: candidates, baseModel: base)
        let evaluator = try evaluators.evaluator(named: task.evaluator)
        return try evaluator.evaluate(try ArmEvaluation(arm: arm, space: space, validationLines: lines,
                                                        policy: task.policyID.isEmpty ? nil : task.policyID,
                                                        options: task.evaluatorOptions, shardIndex: Int(task.shardIndex)))
    }
}
