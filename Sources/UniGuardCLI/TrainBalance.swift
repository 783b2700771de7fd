import ArgumentParser
import Foundation
import GuardData
import Guards
import Training

/// `uniguard train --balance` (applied by FinetuneJob.prepare, for the CLI and the worker alike), and the report of
/// the threshold FinetuneRun chose on validation; kept out of TrainCommand.swift so its loop stays one concern.
typealias TrainBalance = FinetuneSettings.Balance

extension FinetuneSettings.Balance: ExpressibleByArgument {}

extension FinetuneSettings.Balance {
    /// Says what threshold the run chose on validation (FinetuneRun calibrates at its last step).
    static func report(_ c: ThresholdCalibration?, model: GuardModel, hasValidation: Bool) {
        guard let c else {
            if hasValidation { note("threshold: left at \(model.metadata.threshold) (calibration needs validation samples of both labels)") }
            return
        }
        note(String(format: "threshold %.4f chosen on validation (target FPR %.3f%@): precision %.4f  recall %.4f  F1 %.4f  FPR %.4f",
                    c.threshold, c.targetFPR, c.metCap ? "" : ", not reachable: lowest FPR taken", c.counts.precision, c.counts.recall, c.counts.f1, c.fpr))
    }
}
