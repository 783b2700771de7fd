import EncoderModel
import Foundation
import Guards
import Runtime
import Tokenizers

/// The fine-tuning loop, in one process or as one rank of a data-parallel group (the single process is world
/// size 1): epochs of seeded shuffles, each step's global batch split over the ranks (`BatchPartition`), the
/// ranks' gradient shares summed and the same AdamW step applied on every rank; validation after each epoch
/// (scored in shares too, the same report on every rank); rank 0 checkpoints every `checkpointEvery` steps. A resume from step k replays nothing and ends
/// with the parameters of an uninterrupted run.
public final class FinetuneRun {
    public let trainer: TaskGuardTrainer
    public let examples: [TaskGuardTrainer.Example]
    public let validation: [(text: String, unsafe: Bool)]
    /// Where checkpoints go (`output/checkpoints/step-N`); nil: none.
    public let output: URL?
    public let reducer: any GradientReducer
    /// Checked before each step: when it returns true on any rank, every rank returns at the same step boundary.
    public var shouldStop: () -> Bool = { false }
    /// How many of the newest checkpoints to keep; nil keeps all.
    public var keepCheckpoints: Int?
    /// Optimizer steps taken so far in this run (all epochs).
    public private(set) var step = 0
    /// A hash of the examples (texts and labels, in order): a resume on other data is refused.
    public let fingerprint: String

    public var options: TrainingOptions { trainer.options }
    public var stepsPerEpoch: Int { (examples.count + options.batch - 1) / options.batch }
    public var totalSteps: Int { stepsPerEpoch * options.epochs }

    private let encoded: [Encoding]
    private var epochLossSum = 0.0, epochLossSteps = 0, epochSkipped = 0
    private var orderEpoch = 0, order: [Int] = []
    /// The last epoch's validation F1 (recorded in the saved model's metadata).
    public private(set) var lastValidationF1: Double?
    /// When set, the last step's validation scores choose the decision threshold (max F1 with FPR at most this)
    /// before the final checkpoint is written, so a cluster job's exported model carries it as `uniguard train`'s does.
    public var targetFPR: Double?
    /// The validation file's name, recorded in the model's calibration block.
    public var validationSource: String?
    /// The calibration the last step chose (nil: no validation, a missing label, or no `targetFPR`).
    public private(set) var calibration: ThresholdCalibration?

    public init(trainer: TaskGuardTrainer, examples: [TaskGuardTrainer.Example], validation: [(text: String, unsafe: Bool)] = [],
                output: URL? = nil, reducer: any GradientReducer = SingleProcessReducer()) throws {
        guard !examples.isEmpty else { throw TrainingError.noData("no training samples") }
        self.trainer = trainer; self.examples = examples; self.validation = validation; self.output = output; self.reducer = reducer
        let tok = trainer.model.tokenizer, maxLen = trainer.model.metadata.maxLength
        encoded = examples.map { tok.encode($0.text, maxLength: maxLen) }
        fingerprint = Self.fingerprint(examples)
    }

    public convenience init(model: GuardModel, options: TrainingOptions, examples: [TaskGuardTrainer.Example],
                            validation: [(text: String, unsafe: Bool)] = [], output: URL? = nil,
                            reducer: any GradientReducer = SingleProcessReducer()) throws {
        try self.init(trainer: TaskGuardTrainer(model: model, options: options), examples: examples, validation: validation,
                      output: output, reducer: reducer)
    }

    /// SHA-256 over each example's label and text.
    public static func fingerprint(_ examples: [TaskGuardTrainer.Example]) -> String {
        var h = SHA256()
        for e in examples {
            var head = [UInt8](repeating: 0, count: 9)
            head[0] = UInt8(truncatingIfNeeded: e.label)
            withUnsafeBytes(of: UInt64(e.text.utf8.count).littleEndian) { for i in 0..<8 { head[1 + i] = $0[i] } }
            h.update(head)
            h.update(Array(e.text.utf8))
        }
        return SHA256.hex(h.finalize())
    }

    /// The example order of epoch `epoch` (1-based): the seeded shuffles of epochs 1...epoch replayed from the
    /// seed, so it is a pure function of (seed, count, epoch) and equals the order the earlier loop drew by
    /// carrying one generator across epochs.
    public static func order(count: Int, seed: UInt64, epoch: Int) -> [Int] {
        var rng = RandomSource(seed: RandomSource.key(seed, 0x5EED))
        var order: [Int] = []
        for _ in 1...max(1, epoch) {
            order = Array(0..<count)
            order.shuffle(using: &rng)
        }
        return order
    }

    /// Continues from `checkpoint` (its model must already be the trainer's). The settings and the examples must
    /// be the checkpoint's; the world size may differ.
    public func resume(from checkpoint: FinetuneCheckpoint) throws {
        guard checkpoint.examplesSHA256 == fingerprint else {
            throw TrainingError.noData("the training samples (\(examples.count), sha256 \(fingerprint.prefix(12))…) are not the ones the checkpoint was trained on (\(checkpoint.examples), \(checkpoint.examplesSHA256.prefix(12))…); resume with the same data, policy and input format")
        }
        var theirs = checkpoint.options
        theirs.checkpointEvery = options.checkpointEvery; theirs.maxNonFiniteSteps = options.maxNonFiniteSteps
        let diffs = options.differences(from: theirs)
        guard diffs.isEmpty else {
            throw TrainingError.noData("the settings differ from the checkpoint's (\(diffs.joined(separator: "; "))); a resume must use the same settings to match an uninterrupted run")
        }
        guard checkpoint.step < totalSteps else { throw TrainingError.noData("the checkpoint is at the last step (\(checkpoint.step)) already") }
        try checkpoint.restore(into: trainer.optimizer)
        step = checkpoint.step
        epochLossSum = checkpoint.epochLossSum; epochLossSteps = checkpoint.epochLossSteps; epochSkipped = checkpoint.epochSkippedSteps
    }

    /// Runs to the end of the last epoch (or until `shouldStop`); returns the summaries of the epochs this call
    /// finished. Progress reports the global loss, the same on every rank.
    @discardableResult
    public func run(onProgress: (TrainingProgress) -> Void = { _ in }, onEpoch: (EpochSummary) -> Void = { _ in },
                    onCheckpoint: (URL, Int) -> Void = { _, _ in }) throws -> [EpochSummary] {
        let o = options, tok = trainer.model.tokenizer
        let sync = SynchronizedStep(reducer: reducer, optimizer: trainer.optimizer)
        let total = totalSteps, perEpoch = stepsPerEpoch
        let schedule = LinearSchedule(peak: o.lr, warmupRatio: o.warmupRatio, totalSteps: total)
        var summaries: [EpochSummary] = []
        let start = Date()
        var badRun = 0, tokens = 0.0, samples = 0
        while step < total {
            if try sync.anyRank(shouldStop()) { break }
            let epoch = step / perEpoch + 1, s = step % perEpoch
            if orderEpoch != epoch { order = Self.order(count: examples.count, seed: o.seed, epoch: epoch); orderEpoch = epoch }
            let batchRows = Array(order[(s * o.batch)..<min(order.count, (s + 1) * o.batch)])
            let mine = BatchPartition.range(batch: batchRows.count, rank: reducer.rank, worldSize: reducer.worldSize)
            let rows = Array(batchRows[mine])
            let lr = schedule.lr(step: trainer.optimizer.stepCount)
            defer { trainer.grads.fill(0) }
            var share: Float? = 0
            if !rows.isEmpty {
                let batch = TokenBatch.padded(rows.map { encoded[$0] }, pad: tok.special.pad)
                share = try trainer.gradients(batch, labels: rows.map { examples[$0].label }, stepIndex: step,
                                              batchRow: mine.lowerBound, globalRows: batchRows.count)
            }
            var stats: [Float] = [share ?? 0, Float(rows.reduce(0) { $0 + encoded[$1].ids.count }), share == nil ? 1 : 0]
            try sync.agree(&stats)
            var loss: Float?
            if stats[2] == 0, try sync.apply(trainer.grads, optimizer: trainer.optimizer, maxGradNorm: o.maxGradNorm, lr: lr) {
                loss = stats[0]
            }
            step += 1
            tokens += Double(stats[1]); samples += batchRows.count
            if let loss {
                badRun = 0
                epochLossSum += Double(loss); epochLossSteps += 1
            } else {
                badRun += 1; epochSkipped += 1
                if badRun >= o.maxNonFiniteSteps { throw TrainingError.nonFiniteLoss(step: step, lr: lr) }
            }
            let elapsed = max(Date().timeIntervalSince(start), 1e-9)
            onProgress(TrainingProgress(epoch: epoch, epochs: o.epochs, step: step, totalSteps: total,
                                        loss: epochLossSteps == 0 ? .nan : epochLossSum / Double(epochLossSteps),
                                        samplesPerSecond: Double(samples) / elapsed, elapsedSeconds: elapsed,
                                        tokensPerSecond: tokens / elapsed))
            if step % perEpoch == 0 {
                let scores = try validationScores()
                let report = scores.map { EvaluationReport.from(scores: $0, unsafe: validation.map(\.unsafe), threshold: trainer.model.metadata.threshold,
                                                                 seconds: [Double](repeating: 0, count: $0.count)) }
                if let report { lastValidationF1 = report.f1 }
                if step == total, let scores, let targetFPR {
                    // Every rank holds the same scores, so every rank chooses the same threshold.
                    calibration = GuardCalibrator.calibrate(trainer.model, scores: scores, unsafe: validation.map(\.unsafe),
                                                            targetFPR: targetFPR, data: validationSource)
                }
                let summary = EpochSummary(epoch: epoch, trainLoss: epochLossSteps == 0 ? .nan : epochLossSum / Double(epochLossSteps),
                                           validation: report, skippedSteps: epochSkipped)
                summaries.append(summary)
                onEpoch(summary)
                epochLossSum = 0; epochLossSteps = 0; epochSkipped = 0
            }
            if let output, reducer.rank == 0, o.checkpointEvery > 0, step % o.checkpointEvery == 0 || step == total {
                let dir = FinetuneCheckpoint.directory(in: output, step: step)
                let state = FinetuneCheckpoint.State(step: step, optimizerSteps: trainer.optimizer.stepCount, options: o,
                                                     examplesSHA256: fingerprint, examples: examples.count, epochLossSum: epochLossSum,
                                                     epochLossSteps: epochLossSteps, epochSkippedSteps: epochSkipped)
                try FinetuneCheckpoint.save(trainer.model, optimizer: trainer.optimizer, state: state, to: dir)
                onCheckpoint(dir, step)
                pruneCheckpoints(output)
            }
        }
        return summaries
    }

    /// Writes the trained model as `uniguard train` does (with the last validation F1), as a whole, keeping
    /// `out/checkpoints`. Every rank holds the same parameters; call it on one.
    public func saveModel(to out: URL) throws {
        let model = trainer.model
        if let lastValidationF1 { model.metadata.validationF1 = lastValidationF1 }
        try AtomicDirectory.write(out, carryingOver: ["checkpoints"]) { try model.write(into: $0) }
    }

    /// Each validation sample's score. With several ranks each scores its share of the samples and the scores are summed
    /// (each slot is written by one rank, so the sum is exact): every rank gets the same scores, and none waits
    /// in the next step's reduce while one rank scores everything. A failure on any rank fails every rank.
    private func validationScores() throws -> [Float]? {
        guard !validation.isEmpty else { return nil }
        let model = trainer.model
        guard reducer.worldSize > 1 else { return try model.scores(inputs: validation.map(\.text)) }
        let n = validation.count
        let mine = BatchPartition.range(batch: n, rank: reducer.rank, worldSize: reducer.worldSize)
        var scores = [Float](repeating: 0, count: n + 1)  // the last slot counts the ranks that failed
        var failure: (any Error)?
        if !mine.isEmpty {
            do {
                for (i, v) in zip(mine, try model.scores(inputs: validation[mine].map(\.text))) { scores[i] = v }
            } catch {
                failure = error; scores[n] = 1
            }
        }
        try reducer.sum(&scores)
        if let failure { throw failure }
        guard scores[n] == 0 else { throw TrainingError.noData("validation failed on another rank (its log says why)") }
        return Array(scores[..<n])
    }

    private func pruneCheckpoints(_ output: URL) {
        guard let keep = keepCheckpoints else { return }
        for old in FinetuneCheckpoint.steps(in: output).dropLast(keep) {
            try? FileManager.default.removeItem(at: FinetuneCheckpoint.directory(in: output, step: old))
        }
    }
}
