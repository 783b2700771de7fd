import Cluster
import Foundation
import Fusion
import Guards
import Logging

/// Runs one task on a slot thread: a merge arm (rebuilds the model directories from the cache, takes the
/// validation shard, merges and scores the arm with the evaluator the job names) or a rank of a training
/// generation (`TrainTaskRunner`).
struct TaskExecutor: Sendable {
    let cache: BlobCache
    let evaluators: ArmEvaluatorRegistry
    let training: TrainingServices
    /// Where a synthesize batch leaves its samples for the daemon (they travel as the result's raw frame).
    let synthesis: SynthesisOutbox
    let logger: Logger

    func run(_ assignment: Uniguard_V1_TaskAssignment, jobID: String) -> Uniguard_V1_TaskResult {
        let started = ContinuousClock.now
        var result = Uniguard_V1_TaskResult()
        result.taskID = assignment.taskID
        result.attempt = assignment.attempt
        do {
            switch assignment.kind {
            case .mergeArm(let task)?:
                let counts = try evaluate(task)
                var eval = Uniguard_V1_EvalResult()
                eval.counts = counts.wire
                eval.meanLatencyUs = 0
                result.eval = eval
            case .trainStep(let task)?:
                let outcome = try TrainTaskRunner(cache: cache, services: training)
                    .run(task, taskID: assignment.taskID, attempt: assignment.attempt, jobID: jobID)
                if outcome.stopped {
                    var failure = Uniguard_V1_Error()
                    failure.code = .cancelled
                    failure.message = "stopped at step \(outcome.step) (cancelled)"
                    result.error = failure
                } else {
                    var train = Uniguard_V1_TrainStepResult()
                    train.step = UInt64(outcome.step)
                    train.loss = outcome.loss
                    train.examples = UInt64(outcome.examples)
                    train.parametersHash = outcome.parametersHash
                    result.trainStep = train
                }
            case .synthBatch(let task)?:
                let (summary, jsonl) = try SynthBatchRunner(logger: logger).run(task, taskID: assignment.taskID)
                synthesis.put(assignment.taskID, jsonl)
                result.synthBatch = summary
            case .synthRefine(let task)?:
                result.synthRefine = try SynthRefineRunner(logger: logger).run(task, taskID: assignment.taskID)
            default:
                throw WorkerError("this worker runs merge-arm, train-step, synth-batch and synth-refine tasks only")
            }
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
