extension GuardCalibrator {
    /// Calibrates a MultiTaskGuard relative to the benign anchors: each validation score becomes its distance from
    /// its instruction's anchor level in anchor standard deviations, and `ThresholdCalibration` chooses k on those
    /// (max F1 with FPR at most `targetFPR`, pooled over the policies). A policy never seen then gets mean + k·sd of
    /// the anchors' scores under its own instruction, instead of a level other policies set.
    @discardableResult
    public static func calibrateRelativeToAnchors(_ model: GuardModel, validation: [(text: String, unsafe: Bool, policyText: String?)],
                                                  targetFPR: Double, data: String? = nil, policies: [String]) throws -> ThresholdCalibration? {
        guard !validation.isEmpty else { return nil }
        let scores = try model.scores(inputs: validation.map(\.text))
        var distances = [Float](repeating: 0, count: scores.count)
        for i in scores.indices {
            let level = try model.anchorLevel(policyText: validation[i].policyText)
            distances[i] = (scores[i] - level.mean) / level.sd
        }
        guard let c = ThresholdCalibration.choose(scores: distances, unsafe: validation.map(\.unsafe), targetFPR: targetFPR) else { return nil }
        var record = GuardMetadata.Calibration(c, data: data, samples: validation.count, policies: policies)
        record.benignAnchorK = Double(c.threshold)
        model.metadata.calibration = record
        return c
    }
}
