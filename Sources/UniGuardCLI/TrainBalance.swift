import ArgumentParser
import Foundation
import GuardData
import Guards

/// `uniguard train --balance`, and the validation-time calibration `train` runs after fitting; kept out
/// of TrainCommand.swift so the training loop there stays one concern.
enum TrainBalance: String, ExpressibleByArgument, CaseIterable {
    case oversample, none

    /// The samples to fit on.
    func apply(_ samples: [Sample], seed: UInt64) -> [Sample] {
        guard self == .oversample else { return samples }
        let balanced = ClassBalance.oversampled(samples, seed: seed)
        if balanced.count > samples.count {
            note("balance: \(balanced.count - samples.count) minority-label samples repeated (\(samples.count) → \(balanced.count)); --balance none to train on the data as given")
        }
        return balanced
    }

    /// Sets the model's threshold on validation (max F1 with FPR ≤ target) and says what it chose.
    static func calibrate(_ model: GuardModel, validation: [(text: String, unsafe: Bool)], targetFPR: Double) {
        do {
            guard let c = try GuardCalibrator.calibrate(model, validation: validation, targetFPR: targetFPR) else {
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
