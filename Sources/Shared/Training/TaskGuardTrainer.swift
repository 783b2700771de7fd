import EncoderModel
import Foundation
import Guards
import Runtime
import Tokenizers

/// Fine-tunes a GuardModel on labelled inputs: forward, loss, backward, clipping, AdamW. The loop (shuffled
/// epochs, schedule, validation, checkpoints, data-parallel ranks) is `FinetuneRun`.
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
    let grads: Tensor
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

    /// Trains for `options.epochs` in this process (a `FinetuneRun` on this trainer); `validation` (formatted
    /// text, is-unsafe) is scored after each epoch.
    @discardableResult
    public func train(_ examples: [Example], validation: [(text: String, unsafe: Bool)] = [],
                      onProgress: (TrainingProgress) -> Void = { _ in }, onEpoch: (EpochSummary) -> Void = { _ in }) throws -> [EpochSummary] {
        try FinetuneRun(trainer: self, examples: examples, validation: validation).run(onProgress: onProgress, onEpoch: onEpoch)
    }

    /// One optimizer step in one process; returns nil (and applies nothing) when the loss or gradients are not finite.
    public func step(_ batch: TokenBatch, labels: [Int32], stepIndex: Int, lr: Float) throws -> Float? {
        defer { grads.fill(0) }
        guard let loss = try gradients(batch, labels: labels, stepIndex: stepIndex) else { return nil }
        let norm = GradClip.clip(grads, maxNorm: options.maxGradNorm)
        guard norm.isFinite else { return nil }
        optimizer.step(grads: grads, lr: lr)
        return loss
    }

    /// Adds the gradient of `batch` into `grads` without updating. Data-parallel: `batch` holds rows
    /// `batchRow ..< batchRow + batch.batch` of the step's global batch of `globalRows` (default: all of it);
    /// the gradient and the returned loss are this rank's share (rows/globalRows) of the global mean, and dropout
    /// is keyed by the global row. Nil when the loss is not finite (nothing added).
    func gradients(_ batch: TokenBatch, labels: [Int32], stepIndex: Int, batchRow: Int = 0, globalRows: Int? = nil) throws -> Float? {
        let encoder = model.encoder, head = model.head
        let fft = options.mode == .fft
        let global = globalRows ?? batch.batch
        trainWS.dropout = fft && options.dropout
            ? DropoutSpec(config: model.config, seed: RandomSource.key(options.seed, UInt64(stepIndex)), firstRow: batchRow) : nil
        let hidden = try encoder.forward(batch, workspace: trainWS)
        let loss = try head.forward(hidden: hidden, batch: batch, labels: labels, dropout: trainWS.dropout)
        guard loss.isFinite else { return nil }
        // One process: share 1, and the gradient is left exactly as the head computed it.
        let share: Float = batch.batch == global ? 1 : Float(batch.batch) / Float(global)
        if share != 1 { BLAS.scale(head.logitGradient.count, share, head.logitGradient.baseAddress!) }
        gradWS.prepare(for: trainWS)
        head.backward(batch: batch, grads: grads, dHidden: gradWS.dHidden.data)
        if fft { encoder.backward(batch, workspace: trainWS, gradients: gradWS, into: grads) }
        return loss * share
    }
}
