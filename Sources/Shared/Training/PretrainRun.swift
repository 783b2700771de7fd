import Foundation
import GuardData
import Guards
import Runtime
import Tokenizers

/// The GIP loop: reads the corpus in seeded epoch order, tokenizes each batch, steps the pretrainer on a
/// linear warm-up/decay schedule, and checkpoints every `checkpointEvery` steps. Resuming from a checkpoint
/// at step k replays nothing and produces the same parameters as an uninterrupted run (same thread count).
public final class PretrainRun {
    public let trainer: GuardrailPretrainer
    public let corpus: CorpusIndex
    public let output: URL
    public private(set) var step = 0
    /// How many of the newest checkpoints to keep (older ones are deleted after each save); nil keeps all.
    public var keepCheckpoints: Int?
    private var order: CorpusOrder

    public var options: PretrainOptions { trainer.options }

    public init(model: MultiTaskGuard, corpus: CorpusIndex, options: PretrainOptions, output: URL) throws {
        trainer = try GuardrailPretrainer(model: model, options: options)
        self.corpus = corpus; self.output = output
        order = CorpusOrder(count: corpus.count, seed: RandomSource.key(options.seed, 0xDA7A))
    }

    /// Continues from `checkpoint` (its model must already be the one given to `init`). Every setting must be the
    /// checkpoint's except `steps`, which may move the end (the learning-rate schedule is then laid over the new
    /// total from this step on); with the same steps the run ends bit for bit where an uninterrupted one would.
    public func resume(from checkpoint: PretrainCheckpoint) throws {
        guard checkpoint.corpusSHA256 == corpus.sha256 else {
            throw TrainingError.noData("\(corpus.path) is not the corpus the checkpoint was trained on (sha256 \(corpus.sha256.prefix(12))…, checkpoint \(checkpoint.corpusSHA256.prefix(12))…); resume with the same corpus file")
        }
        var theirs = checkpoint.options
        theirs.steps = options.steps
        let diffs = options.differences(from: theirs)
        guard diffs.isEmpty else {
            throw TrainingError.noData("the settings differ from the checkpoint's (\(diffs.joined(separator: "; "))); a resume must use the same settings to match an uninterrupted run")
        }
        guard options.steps > checkpoint.step else {
            throw TrainingError.noData("the checkpoint is at step \(checkpoint.step) already; give --steps above it to continue")
        }
        try checkpoint.restore(into: trainer.optimizer)
        step = checkpoint.step
    }

    /// Runs up to `options.steps`, reporting each step; returns the mean losses of the steps this call ran.
    @discardableResult
    public func run(onProgress: (TrainingProgress, PretrainLosses) -> Void = { _, _ in },
                    onCheckpoint: (URL) -> Void = { _ in }) throws -> PretrainLosses {
        let o = options, tok = trainer.model.tokenizer
        let schedule = LinearSchedule(peak: o.lr, warmupRatio: o.warmupRatio, totalSteps: o.steps)
        let epochs = (o.steps * o.batch + corpus.count - 1) / corpus.count
        let start = Date(), firstStep = step
        var sum = PretrainLosses(), ran = 0, badRun = 0
        while step < o.steps {
            let rows = order.rows(step: step, batch: o.batch)
            var encodings: [Encoding] = [], labels: [Int32] = []
            for r in rows {
                let rec = try corpus.record(r)
                encodings.append(tok.encode(rec.text, maxLength: o.maxLength))
                labels.append(Int32(rec.label.classIndex))
            }
            let lr = schedule.lr(step: trainer.optimizer.stepCount)
            let losses = try trainer.step(encodings, labels: labels, stepIndex: step, firstRow: step * o.batch, lr: lr)
            step += 1
            if let losses {
                badRun = 0; ran += 1
                sum.mlm += losses.mlm; sum.classification += losses.classification; sum.adversarial += losses.adversarial
                sum.consistency += losses.consistency; sum.total += losses.total; sum.maskedTokens += losses.maskedTokens
            } else {
                badRun += 1
                if badRun >= o.maxNonFiniteSteps { throw TrainingError.nonFiniteLoss(step: step, lr: lr) }
            }
            let elapsed = Date().timeIntervalSince(start)
            let mean = Self.mean(sum, ran)
            onProgress(TrainingProgress(epoch: order.epoch(ofStep: step - 1, batch: o.batch), epochs: epochs, step: step, totalSteps: o.steps,
                                        loss: Double(mean.total), samplesPerSecond: Double((step - firstStep) * o.batch) / max(elapsed, 1e-9),
                                        elapsedSeconds: elapsed), losses ?? PretrainLosses(total: .nan))
            // The last step is checkpointed too, so a finished run can be resumed with a larger --steps.
            if o.checkpointEvery > 0 && (step % o.checkpointEvery == 0 || step == o.steps) {
                let dir = PretrainCheckpoint.directory(in: output, step: step)
                try PretrainCheckpoint.save(trainer.model, optimizer: trainer.optimizer, step: step, options: o, corpus: corpus, to: dir)
                onCheckpoint(dir)
                pruneCheckpoints()
            }
        }
        return Self.mean(sum, ran)
    }

    /// Deletes all but the newest `keepCheckpoints` checkpoints of this run's output.
    private func pruneCheckpoints() {
        guard let keep = keepCheckpoints else { return }
        for old in PretrainCheckpoint.steps(in: output).dropLast(keep) {
            try? FileManager.default.removeItem(at: PretrainCheckpoint.directory(in: output, step: old))
        }
    }

    private static func mean(_ s: PretrainLosses, _ n: Int) -> PretrainLosses {
        guard n > 0 else { return PretrainLosses(total: .nan) }
        let k = Float(n)
        return PretrainLosses(mlm: s.mlm / k, classification: s.classification / k, adversarial: s.adversarial / k,
                              consistency: s.consistency / k, total: s.total / k, maskedTokens: s.maskedTokens / n)
    }
}
