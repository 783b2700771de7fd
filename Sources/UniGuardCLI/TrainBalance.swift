import ArgumentParser
import Foundation
import GuardData
import Guards
import Training

/// `uniguard train --balance` (applied by FinetuneJob.prepare, for the CLI and the worker alike), and the
/// validation-time calibration `train` runs after fitting; kept out of TrainCommand.swift so its loop stays one concern.
typealias TrainBalance = FinetuneSettings.Balance

extension FinetuneSettings.Balance: ExpressibleByArgument {}

extension FinetuneSettings.Balance {
    /// Sets the model's threshold on validation (max F1 with FPR ≤ target) and says what it chose.
    static func calibrate(_ model: GuardModel, validation: [(text: String, unsafe: Bool)], targetFPR: Double, data: String?) {
        do {
            guard let c = try GuardCalibrator.calibrate(model, validation: validation, targetFPR: targetFPR, data: data) else {
                note("threshold: left at \(model.metadata.threshold) (calibration needs validation samples of both labels)")
                return
            }
            note(String(format: "threshold %.4f chosen on validation (target FPR %.3f%@): precision %.4f  recall %.4f  F1 %.4f  FPR %.4f",
                        c.threshold, c.targetFPR, c.metCap ? "" : ", not reachable: lowest FPR taken", c.counts.precision, c.counts.recall, c.counts.f1, c.fpr))
        } catch {
            warn("threshold: calibration failed (\(error)); left at \(model.metadata.threshold)")
        }
    }
}
