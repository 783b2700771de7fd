/// Scores a trained guard on its validation items and sets its decision threshold by
/// `ThresholdCalibration` (max F1 with FPR at most `targetFPR`); what `uniguard train` calls after training.
public enum GuardCalibrator {
    /// Calibrates `model.metadata.threshold` in place and returns the calibration, or nil (threshold left
    /// as it was) when the validation items lack a label.
    @discardableResult
    public static func calibrate(_ model: GuardModel, validation: [(text: String, unsafe: Bool)], targetFPR: Double) throws -> ThresholdCalibration? {
        guard !validation.isEmpty else { return nil }
        let scores = try model.scores(inputs: validation.map(\.text))
        guard let calibration = ThresholdCalibration.choose(scores: scores, unsafe: validation.map(\.unsafe), targetFPR: targetFPR) else { return nil }
        model.metadata.threshold = calibration.threshold
        return calibration
    }
}
