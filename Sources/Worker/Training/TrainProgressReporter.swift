import Cluster
import Foundation
import Training

/// Sends TrainProgress through the bridge at most every `interval` (plus always the last step), each replacing an
/// unsent one of the same task, so the coordinator sees fresh progress without a message per step.
final class TrainProgressReporter {
    let bridge: CoordinatorBridge
    let jobID: String
    let taskID: String
    let attempt: UInt32
    let endStep: Int
    let timer: TimedReducer
    /// A cancelled rank's progress would only be refused: it stops sending.
    let isCancelled: () -> Bool
    var interval: Duration = .milliseconds(250)
    private var lastSent: ContinuousClock.Instant?
    private var lastStepAt = ContinuousClock.now
    private var allreduce: Duration = .zero
    private(set) var lastLoss = Double.nan

    init(bridge: CoordinatorBridge, jobID: String, taskID: String, attempt: UInt32, endStep: Int, timer: TimedReducer,
         isCancelled: @escaping () -> Bool) {
        self.bridge = bridge; self.jobID = jobID; self.taskID = taskID; self.attempt = attempt; self.endStep = endStep; self.timer = timer
        self.isCancelled = isCancelled
    }

    /// After each step: `terms` are (mlm, classification, adversarial, consistency) for GIP.
    func report(_ progress: TrainingProgress, terms: (Double, Double, Double, Double)? = nil, validationF1: Double = .nan) {
        let now = ContinuousClock.now
        let stepTime = now - lastStepAt
        lastStepAt = now
        let reduce = timer.takeSpent()
        lastLoss = progress.loss
        if isCancelled() { return }
        if let lastSent, now - lastSent < interval, progress.step < endStep { return }
        lastSent = now
        var p = Uniguard_V1_TrainProgress()
        p.taskID = taskID
        p.attempt = attempt
        p.step = UInt64(progress.step)
        p.epoch = UInt64(max(progress.epoch, 0))
        p.loss = progress.loss
        if let terms {
            p.mlmLoss = terms.0; p.classificationLoss = terms.1; p.adversarialLoss = terms.2; p.consistencyLoss = terms.3
        } else {
            p.classificationLoss = progress.loss
        }
        p.samplesPerSecond = progress.samplesPerSecond
        p.tokensPerSecond = progress.tokensPerSecond
        p.stepMs = Double(stepTime.components.seconds) * 1000 + Double(stepTime.components.attoseconds) * 1e-15
        p.allreduceMs = Double(reduce.components.seconds) * 1000 + Double(reduce.components.attoseconds) * 1e-15
        p.validationF1 = validationF1
        bridge.post(.trainProgress(p), jobID: jobID, coalesceKey: "progress \(taskID)")
    }
}
