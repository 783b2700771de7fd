import EncoderModel
import Foundation
import Guards
import Runtime
import Tokenizers

/// Fine-tunes a GuardModel on labelled inputs: shuffled mini-batches, forward, loss, backward, clipping,
/// AdamW with linear warm-up/decay; validation F1 after each epoch.
public final class TaskGuardTrainer {
    /// One training input: model-formatted text and class (0 safe, 1 unsafe).
    public struct Example: Sendable {
        public var text: String
        public var label: Int32
        public init(text: String, label: Int32) { self.text = text; self.label = label }
    }

    public let model: GuardModel
    public let options: TrainingOptions
    public let optimizer: AdamW
    private let grads: Tensor
    private let trainWS: EncoderWorkspace
    private let gradWS: EncoderGradientWorkspace

    public init(model: GuardModel, options: TrainingOptions) {
        self.model = model
        self.options = options
        let cft = options.mode == .cft
        optimizer = AdamW(params: model.params, weightDecay: options.weightDecay,
                          trainable: { cft ? $0.hasPrefix("classifier.") : true })
        grads = model.params.makeLike()
        // CFT never backpropagates into the encoder, so its forward need not keep per-layer activations.
        trainWS = EncoderWorkspace(config: model.config, training: !cft)
        gradWS = EncoderGradientWorkspace(config: model.config)
    }

    /// Trains for `options.epochs`; `validation` (formatted text, is-unsafe) is scored after each epoch.
    @discardableResult
    public func train(_ examples: [Example], validation: [(text: String, unsafe: Bool)] = [],
                      onProgress: (TrainingProgress) -> Void = { _ in }, onEpoch: (EpochSummary) -> Void = { _ in }) throws -> [EpochSummary] {
        guard !examples.isEmpty else { throw TrainingError.noData("no training samples") }
        let tok = model.tokenizer, maxLen = model.metadata.maxLength
        let encoded = examples.map { tok.encode($0.text, maxLength: maxLen) }
        let stepsPerEpoch = (examples.count + options.batch - 1) / options.batch
        let total = stepsPerEpoch * options.epochs
        let schedule = LinearSchedule(peak: options.lr, warmupRatio: options.warmupRatio, totalSteps: total)
        var rng = RandomSource(seed: RandomSource.key(options.seed, 0x5EED))
        var summaries: [EpochSummary] = []
        let start = Date()
        var step = 0, badRun = 0
        for epoch in 1...options.epochs {
            var order = Array(examples.indices)
            order.shuffle(using: &rng)
            var lossSum = 0.0, lossCount = 0, skipped = 0
            for s in 0..<stepsPerEpoch {
                let rows = Array(order[(s * options.batch)..<min(order.count, (s + 1) * options.batch)])
                let batch = TokenBatch.padded(rows.map { encoded[$0] }, pad: tok.special.pad)
                let loss = try self.step(batch, labels: rows.map { examples[$0].label }, stepIndex: step, lr: schedule.lr(step: optimizer.stepCount))
                step += 1
                if let loss {
                    badRun = 0
                    lossSum += Double(loss); lossCount += 1
                } else {
                    badRun += 1; skipped += 1
                    if badRun >= options.maxNonFiniteSteps { throw TrainingError.nonFiniteLoss(step: step, lr: schedule.lr(step: optimizer.stepCount)) }
                }
                let elapsed = Date().timeIntervalSince(start)
                onProgress(TrainingProgress(epoch: epoch, epochs: options.epochs, step: step, totalSteps: total,
                                            loss: lossCount == 0 ? .nan : lossSum / Double(lossCount),
                                            samplesPerSecond: Double(min(step * options.batch, examples.count * options.epochs)) / max(elapsed, 1e-9),
                                            elapsedSeconds: elapsed))
            }
            var report: EvaluationReport?
            if !validation.isEmpty { report = try Evaluator(model: model).evaluate(validation) }
            let summary = EpochSummary(epoch: epoch, trainLoss: lossCount == 0 ? .nan : lossSum / Double(lossCount),
                                       validation: report, skippedSteps: skipped)
            summaries.append(summary)
            onEpoch(summary)
        }
        return summaries
    }

    /// One optimizer step; returns nil (and applies nothing) when the loss or gradients are not finite.
    public func step(_ batch: TokenBatch, labels: [Int32], stepIndex: Int, lr: Float) throws -> Float? {
        let encoder = model.encoder, head = model.head
        let fft = options.mode == .fft
        trainWS.dropout = fft && options.dropout ? DropoutSpec(config: model.config, seed: RandomSource.key(options.seed, UInt64(stepIndex))) : nil
        let hidden = try encoder.forward(batch, workspace: trainWS)
        let loss = try head.forward(hidden: hidden, batch: batch, labels: labels, dropout: trainWS.dropout)
        guard loss.isFinite else { return nil }
        gradWS.prepare(for: trainWS)
        head.backward(batch: batch, grads: grads, dHidden: gradWS.dHidden.data)
        if fft { encoder.backward(batch, workspace: trainWS, gradients: gradWS, into: grads) }
        defer { grads.fill(0) }
        let norm = GradClip.clip(grads, maxNorm: options.maxGradNorm)
        guard norm.isFinite else { return nil }
        optimizer.step(grads: grads, lr: lr)
        return loss
    }
}
