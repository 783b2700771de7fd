/// Linear warm-up from 0 to `peak` over `warmupSteps`, then linear decay to 0 at `totalSteps`
/// (transformers' `get_linear_schedule_with_warmup`).
public struct LinearSchedule: Sendable, Equatable {
    public var peak: Float
    public var warmupSteps: Int
    public var totalSteps: Int

    public init(peak: Float, warmupSteps: Int, totalSteps: Int) {
        self.peak = peak; self.warmupSteps = max(0, warmupSteps); self.totalSteps = max(1, totalSteps)
    }

    /// Warm-up as a fraction of the total steps (e.g. 0.1), rounded up as transformers' `warmup_ratio`.
    public init(peak: Float, warmupRatio: Double, totalSteps: Int) {
        self.init(peak: peak, warmupSteps: Int((warmupRatio * Double(totalSteps)).rounded(.up)), totalSteps: totalSteps)
    }

    /// The learning rate of the optimizer step taken after `step` earlier steps (pass `AdamW.stepCount`
    /// before calling `step`); as in transformers, the very first step has rate 0 when warming up.
    public func lr(step: Int) -> Float {
        if step < warmupSteps { return peak * Float(Double(step) / Double(max(1, warmupSteps))) }
        return peak * Float(max(0, Double(totalSteps - step) / Double(max(1, totalSteps - warmupSteps))))
    }
}
