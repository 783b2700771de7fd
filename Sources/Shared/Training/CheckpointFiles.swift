import EncoderModel
import Foundation
import Runtime

/// What pretraining and fine-tuning checkpoints share: AdamW's moments in `optimizer.safetensors`, the trainer
/// state as JSON, and finding the checkpoint in a run's output directory.
enum CheckpointFiles {
    static let stateFile = "trainer_state.json", optimizerFile = "optimizer.safetensors"

    /// Writes the optimizer's moments and `state` into a checkpoint directory being built.
    static func write<State: Encodable>(_ optimizer: AdamW, state: State, into dir: URL) throws {
        try SafetensorsWriter.write(path: dir.appendingPathComponent(optimizerFile).path,
                                    tensors: [("exp_avg", optimizer.m), ("exp_avg_sq", optimizer.v)])
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try enc.encode(state).write(to: dir.appendingPathComponent(stateFile), options: .atomic)
    }

    /// The checkpoint directory `path` names: itself when it holds a trainer state, else the latest
    /// `checkpoints/step-*` under it (a run's output directory).
    static func locate(_ path: URL) throws -> URL {
        guard !FileManager.default.fileExists(atPath: path.appendingPathComponent(stateFile).path) else { return path }
        guard let last = PretrainCheckpoint.steps(in: path).last else {
            throw ModelError.missingFile(path: path.path, hint: "no checkpoint here: expected \(stateFile) or checkpoints/step-*/ (written every --checkpoint-every steps)")
        }
        return PretrainCheckpoint.directory(in: path, step: last)
    }

    /// Restores AdamW's moments from a checkpoint directory, and its step count.
    static func restore(_ optimizer: AdamW, from dir: URL, steps: Int) throws {
        let path = dir.appendingPathComponent(optimizerFile).path
        let file = try SafetensorsFile(path: path)
        for (name, target) in [("exp_avg", optimizer.m), ("exp_avg_sq", optimizer.v)] {
            let t = try file.tensor(name)
            guard t.count == target.count else {
                throw ModelError.incompatible("\(path): '\(name)' has \(t.count) values but the model has \(target.count) parameters; the checkpoint belongs to another model")
            }
            target.data.update(from: t.data, count: t.count)
        }
        optimizer.stepCount = steps
    }
}
