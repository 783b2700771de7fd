/// Scores a trained guard on its validation items and sets its decision threshold by
/// `ThresholdCalibration` (max F1 with FPR at most `targetFPR`); what `uniguard train` and `uniguard calibrate` call.
public enum GuardCalibrator {
    /// Calibrates `model.metadata.threshold` in place, records how in `model.metadata.calibration`, and returns the
    /// calibration, or nil (threshold left as it was) when the validation items lack a label. `data` names the
    /// validation file and `policies` the policies its items were drawn from (default: the model's policy).
    @discardableResult
    public static func calibrate(_ model: GuardModel, validation: [(text: String, unsafe: Bool)], targetFPR: Double,
                                 data: String? = nil, policies: [String]? = nil) throws -> ThresholdCalibration? {
        guard !validation.isEmpty else { return nil }
        let scores = try model.scores(inputs: validation.map(\.text))
        return calibrate(model, scores: scores, unsafe: validation.map(\.unsafe), targetFPR: targetFPR, data: data, policies: policies)
    }

    /// `calibrate` on scores already computed (a training run's last validation, scored in shares by its ranks).
    @discardableResult
    public static func calibrate(_ model: GuardModel, scores: [Float], unsafe: [Bool], targetFPR: Double, data: String? = nil,
                                 policies: [String]? = nil) -> ThresholdCalibration? {
        guard let calibration = ThresholdCalibration.choose(scores: scores, unsafe: unsafe, targetFPR: targetFPR) else { return nil }
        model.metadata.threshold = calibration.threshold
        model.metadata.calibration = GuardMetadata.Calibration(calibration, data: data, samples: scores.count,
                                                               policies: policies ?? [model.metadata.policy])
        return calibration
    }
}
