import EncoderModel
import Foundation
import Runtime

/// What pretraining and fine-tuning checkpoints share: AdamW's moments in `optimizer.safetensors`, the trainer
/// state as JSON, and finding the checkpoint in a run's output directory.
enum CheckpointFiles {
    static let stateFile = "trainer_state.json", optimizerFile = "optimizer.safetensors"
    /// Metadata key of `optimizer.safetensors` naming the moments' parameter order; files without it predate the
    /// packed Q/K/V layout and are remapped from `EncoderNames.legacyOrder` on restore.
    static let orderKey = "parameter_order", packedOrder = "packed-qkv"

    /// Writes the optimizer's moments and `state` into a checkpoint directory being built.
    static func write<State: Encodable>(_ optimizer: AdamW, state: State, into dir: URL) throws {
        try SafetensorsWriter.write(path: dir.appendingPathComponent(optimizerFile).path,
                                    tensors: [("exp_avg", optimizer.m), ("exp_avg_sq", optimizer.v)],
                                    metadata: [orderKey: packedOrder])
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
        let legacy = file.metadata[orderKey] == nil
        guard legacy || file.metadata[orderKey] == packedOrder else {
            throw ModelError.incompatible("\(path): parameter order '\(file.metadata[orderKey]!)' is unknown to this version; resume with the version that wrote it")
        }
        for (name, target) in [("exp_avg", optimizer.m), ("exp_avg_sq", optimizer.v)] {
            let t = try file.tensor(name)
            guard t.count == target.count else {
                throw ModelError.incompatible("\(path): '\(name)' has \(t.count) values but the model has \(target.count) parameters; the checkpoint belongs to another model")
            }
            if legacy { remapLegacy(t.data, into: target.data, params: optimizer.params) } else { target.data.update(from: t.data, count: t.count) }
        }
        optimizer.stepCount = steps
    }

    /// Copies moments laid out in the pre-packed-Q/K/V slot order into the store's current order, slot by slot.
    static func remapLegacy(_ from: UnsafePointer<Float>, into to: UnsafeMutablePointer<Float>, params: ParameterStore) {
        var src = 0
        for name in EncoderNames.legacyOrder(params.slots.map(\.name)) {
            let s = params.slot(name)!
            (to + s.offset).update(from: from + src, count: s.count)
            src += s.count
        }
    }
}
