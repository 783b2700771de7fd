import Foundation

extension GuardModel {
    /// Mean and standard deviation of the `BenignAnchors` prompts' scores under `policyText` (nil: the model's own
    /// instruction); computed once per instruction text.
    public func anchorLevel(policyText: String?) throws -> (mean: Float, sd: Float) {
        let key = policyText ?? metadata.instruction
        if let known = anchorLevels.withLock({ $0[key] }) { return known }
        let scores = try self.scores(inputs: BenignAnchors.prompts.map { input(for: $0, policyText: policyText) })
        let n = Float(scores.count)
        let mean = scores.reduce(0, +) / n
        let variance = scores.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n
        // A model that scores every anchor alike would divide by zero; a floor keeps k·sd meaningful.
        let level = (mean: mean, sd: max(variance.squareRoot(), 1e-6))
        anchorLevels.withLock { $0[key] = level }
        return level
    }

    /// The decision threshold for inputs read under `policyText`: the stored threshold, or for a model calibrated
    /// relative to the benign anchors, mean + k·sd of their scores under that instruction.
    public func threshold(policyText: String?) throws -> Float {
        guard metadata.inputFormat == .instruction, let k = metadata.calibration?.benignAnchorK else { return metadata.threshold }
        let level = try anchorLevel(policyText: policyText)
        return level.mean + Float(k) * level.sd
    }
}
