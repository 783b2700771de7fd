import Foundation
import GuardData
import Guards
import Runtime
import Tokenizers

/// The GIP loop, in one process or as one rank of a data-parallel group (the single process is world size 1):
/// reads the corpus in seeded epoch order, takes this rank's rows of each global batch (`BatchPartition`),
/// tokenizes them, computes their gradient shares, and lets the ranks sum them and apply the same AdamW step
/// on a linear warm-up/decay schedule. Rank 0 checkpoints every `checkpointEvery` steps. Resuming from a
/// checkpoint at step k replays nothing and produces the same parameters as an uninterrupted run (bitwise with
/// the same world size and thread count; up to float summation order with another world size).
public final class PretrainRun {
    public let trainer: GuardrailPretrainer
    public let corpus: any CorpusRecordSource
    public let output: URL
    public var reducer: any GradientReducer { trainer.reducer }
    public private(set) var step = 0
    /// How many of the newest checkpoints to keep (older ones are deleted after each save); nil keeps all.
    public var keepCheckpoints: Int?
    /// Checked before each step (cancellation, a generation ending): when it returns true on any rank, every
    /// rank returns from `run` at the same step boundary, having applied the same steps.
    public var shouldStop: () -> Bool = { false }
    private var order: CorpusOrder

    public var options: PretrainOptions { trainer.options }

    public init(model: MultiTaskGuard, corpus: any CorpusRecordSource, options: PretrainOptions, output: URL,
                reducer: any GradientReducer = SingleProcessReducer()) throws {
        trainer = try GuardrailPretrainer(model: model, options: options, reducer: reducer)
        self.corpus = corpus; self.output = output
        order = CorpusOrder(count: corpus.count, seed: RandomSource.key(options.seed, 0xDA7A))
    }

    /// Continues from `checkpoint` (its model must already be the one given to `init`). Every setting must be the
    /// checkpoint's except `steps`, which may move the end (the learning-rate schedule is then laid over the new
    /// total from this step on); with the same steps the run ends bit for bit where an uninterrupted one would.
    /// Any world size may resume any checkpoint: the global batch, not the split, defines a step.
    public func resume(from checkpoint: PretrainCheckpoint) throws {
        guard checkpoint.corpusSHA256 == corpus.sha256 else {
            let name = (corpus as? CorpusIndex)?.path ?? "the corpus"
            throw TrainingError.noData("\(name) is not the corpus the checkpoint was trained on (sha256 \(corpus.sha256.prefix(12))…, checkpoint \(checkpoint.corpusSHA256.prefix(12))…); resume with the same corpus file")
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

    /// This rank's rows of step `step`'s global batch and where they start in it.
    private func localRows(step: Int) -> (rows: [Int], batchRow: Int) {
        let all = order.rows(step: step, batch: options.batch)
        let mine = BatchPartition.range(batch: options.batch, rank: reducer.rank, worldSize: reducer.worldSize)
        return (Array(all[mine]), mine.lowerBound)
    }

    /// Runs up to `options.steps` (or until `shouldStop`), reporting each step's global losses; returns the mean
    /// losses of the steps this call ran. `onCheckpoint` (rank 0 only) gets each checkpoint's directory and step.
    @discardableResult
    public func run(onProgress: (TrainingProgress, PretrainLosses) -> Void = { _, _ in },
                    onCheckpoint: (URL, Int) -> Void = { _, _ in }) throws -> PretrainLosses {
        let o = options, tok = trainer.model.tokenizer
        let sync = SynchronizedStep(reducer: reducer, optimizer: trainer.optimizer)
        let schedule = LinearSchedule(peak: o.lr, warmupRatio: o.warmupRatio, totalSteps: o.steps)
        let epochs = (o.steps * o.batch + corpus.count - 1) / corpus.count
        let start = Date(), firstStep = step
        var sum = PretrainLosses(), ran = 0, badRun = 0, tokens = 0.0
        while step < o.steps {
            if try sync.anyRank(shouldStop()) { break }
            let (rows, batchRow) = localRows(step: step)
            // A remote corpus fetches the next step's rows while this one computes.
            if step + 1 < o.steps { corpus.prefetch(localRows(step: step + 1).rows) }
            var encodings: [Encoding] = [], labels: [Int32] = []
            for rec in try corpus.records(rows) {
                encodings.append(tok.encode(rec.text, maxLength: o.maxLength))
                labels.append(Int32(rec.label.classIndex))
            }
            let lr = schedule.lr(step: trainer.optimizer.stepCount)
            defer { trainer.grads.fill(0) }  // also when a step throws
            let share = try trainer.gradients(encodings, labels: labels, stepIndex: step, firstRow: step * o.batch + batchRow,
                                              batchRow: batchRow, globalRows: o.batch)
            // Global losses (sums of the ranks' shares), real tokens, and whether any rank's loss was not finite.
            let l = share ?? PretrainLosses()
            var stats: [Float] = [l.mlm, l.classification, l.adversarial, l.consistency, l.total,
                                  Float(encodings.reduce(0) { $0 + $1.ids.count }), share == nil ? 1 : 0]
            try sync.agree(&stats)
            var losses: PretrainLosses?
            if stats[6] == 0, try sync.apply(trainer.grads, optimizer: trainer.optimizer, maxGradNorm: o.maxGradNorm, lr: lr) {
                losses = PretrainLosses(mlm: stats[0], classification: stats[1], adversarial: stats[2], consistency: stats[3],
                                        total: stats[4], maskedTokens: l.maskedTokens)
            }
            tokens += Double(stats[5])
            step += 1
            if let losses {
                badRun = 0; ran += 1
                sum.mlm += losses.mlm; sum.classification += losses.classification; sum.adversarial += losses.adversarial
                sum.consistency += losses.consistency; sum.total += losses.total; sum.maskedTokens += losses.maskedTokens
            } else {
                badRun += 1
                if badRun >= o.maxNonFiniteSteps { throw TrainingError.nonFiniteLoss(step: step, lr: lr) }
            }
            let elapsed = max(Date().timeIntervalSince(start), 1e-9)
            let mean = Self.mean(sum, ran)
            onProgress(TrainingProgress(epoch: order.epoch(ofStep: step - 1, batch: o.batch), epochs: epochs, step: step, totalSteps: o.steps,
                                        loss: Double(mean.total), samplesPerSecond: Double((step - firstStep) * o.batch) / elapsed,
                                        elapsedSeconds: elapsed, tokensPerSecond: tokens / elapsed), losses ?? PretrainLosses(total: .nan))
            // The last step is checkpointed too, so a finished run can be resumed with a larger --steps.
            if reducer.rank == 0, o.checkpointEvery > 0, step % o.checkpointEvery == 0 || step == o.steps {
                let dir = PretrainCheckpoint.directory(in: output, step: step)
                try PretrainCheckpoint.save(trainer.model, optimizer: trainer.optimizer, step: step, options: o, corpus: corpus, to: dir)
                onCheckpoint(dir, step)
                pruneCheckpoints()
            }
        }
        return Self.mean(sum, ran)
    }

    /// Writes the trained model as `uniguard pretrain` does (a MultiTaskGuard directory whose uniguard.json records
    /// the recipe, the settings, `policies` and `corpusName`), keeping `out/checkpoints`. Every rank holds the same
    /// parameters; call it on one.
    public func saveModel(to out: URL, policies: [String], corpusName: String) throws {
        let p = Self.provenance(options: options, records: corpus.count, corpusSHA256: corpus.sha256, policies: policies, corpusName: corpusName)
        try trainer.model.save(to: out, maxLength: options.maxLength, recipe: p.recipe, extra: p.extra)
    }

    /// uniguard.json's recipe and `pretraining` block (settings, the corpus's policies — what `uniguard calibrate`
    /// calibrates on, never a held-out policy — and the corpus name): the CLI's save and a cluster job's export write the same.
    public static func provenance(options o: PretrainOptions, records: Int, corpusSHA256: String, policies: [String],
                                  corpusName: String) -> (recipe: GuardMetadata.Recipe, extra: [String: Any]) {
        let recipe = GuardMetadata.Recipe(mode: "gip", epochs: (o.steps * o.batch + records - 1) / max(1, records), batch: o.batch,
                                          lr: Double(o.lr), maxLength: o.maxLength, seed: o.seed,
                                          trainSamples: records, trainSHA256: corpusSHA256)
        let settings = (try? JSONSerialization.jsonObject(with: JSONEncoder().encode(o))) ?? [:]
        return (recipe, ["pretraining": ["options": settings, "policies": policies.sorted(), "corpus": corpusName]])
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
