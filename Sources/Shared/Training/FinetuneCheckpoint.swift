import EncoderModel
import Foundation
import Guards
import Runtime

/// A resumable fine-tuning checkpoint: a complete TaskGuard model directory (usable as is) plus
/// `optimizer.safetensors` (AdamW moments) and `trainer_state.json` (step, the open epoch's running loss,
/// settings, a hash of the training inputs). Data order, dropout and the schedule are functions of seed, epoch
/// and step, so a resume replays nothing and ends where an uninterrupted run would.
public struct FinetuneCheckpoint: Sendable {
    public var directory: URL
    public var step: Int
    public var optimizerSteps: Int
    public var options: TrainingOptions
    /// `FinetuneRun.fingerprint` of the examples the checkpoint was trained on.
    public var examplesSHA256: String
    public var examples: Int
    /// The open epoch's loss sum, finite steps and skipped steps so far (its summary continues from them).
    public var epochLossSum: Double
    public var epochLossSteps: Int
    public var epochSkippedSteps: Int

    static let stateFile = CheckpointFiles.stateFile

    struct State: Codable {
        var step: Int
        var optimizerSteps: Int
        var options: TrainingOptions
        var examplesSHA256: String
        var examples: Int
        var epochLossSum: Double
        var epochLossSteps: Int
        var epochSkippedSteps: Int
        enum CodingKeys: String, CodingKey {
            case step, options, examples
            case optimizerSteps = "optimizer_steps", examplesSHA256 = "examples_sha256", epochLossSum = "epoch_loss_sum"
            case epochLossSteps = "epoch_loss_steps", epochSkippedSteps = "epoch_skipped_steps"
        }
    }

    /// The checkpoint directory for `step` under a run's output directory.
    public static func directory(in out: URL, step: Int) -> URL { PretrainCheckpoint.directory(in: out, step: step) }

    /// The steps of the checkpoints under a run's output directory, ascending.
    public static func steps(in out: URL) -> [Int] { PretrainCheckpoint.steps(in: out) }

    /// Writes a checkpoint as a whole (`AtomicDirectory`), so a crash leaves the previous one intact.
    static func save(_ model: GuardModel, optimizer: AdamW, state: State, to dir: URL) throws {
        try AtomicDirectory.write(dir) { tmp in
            try model.write(into: tmp)
            try CheckpointFiles.write(optimizer, state: state, into: tmp)
        }
    }

    /// Reads a checkpoint directory, or the latest `checkpoints/step-*` inside a run's output directory.
    public static func locate(_ path: URL) throws -> FinetuneCheckpoint {
        let dir = try CheckpointFiles.locate(path)
        let url = dir.appendingPathComponent(stateFile)
        guard let data = FileManager.default.contents(atPath: url.path) else { throw ModelError.missingFile(path: url.path, hint: "not a fine-tuning checkpoint") }
        let s: State
        do { s = try JSONDecoder().decode(State.self, from: data) } catch {
            throw ModelError.badConfig(path: url.path, field: "-", reason: "not a fine-tuning trainer state (\(error)); the checkpoint is damaged or from `uniguard pretrain`, resume from another one")
        }
        return FinetuneCheckpoint(directory: dir, step: s.step, optimizerSteps: s.optimizerSteps, options: s.options,
                                  examplesSHA256: s.examplesSHA256, examples: s.examples, epochLossSum: s.epochLossSum,
                                  epochLossSteps: s.epochLossSteps, epochSkippedSteps: s.epochSkippedSteps)
    }

    /// The checkpoint's model (parameters and metadata), to build the resumed run on.
    public func loadModel() throws -> GuardModel { try GuardModel.load(directory) }

    /// Restores AdamW's moments and step count.
    public func restore(into optimizer: AdamW) throws {
        try CheckpointFiles.restore(optimizer, from: directory, steps: optimizerSteps)
    }
}
