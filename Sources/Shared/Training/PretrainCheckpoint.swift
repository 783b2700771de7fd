import EncoderModel
import Foundation
import GuardData
import Guards
import Runtime

/// A resumable pretraining checkpoint: a complete MultiTaskGuard model directory (usable as is) plus
/// `optimizer.safetensors` (AdamW moments) and `trainer_state.json` (step, settings, corpus hash).
/// Everything else a step needs (data order, masks, dropout, probes) is a function of seed and step.
public struct PretrainCheckpoint: Sendable {
    public var directory: URL
    public var step: Int
    public var optimizerSteps: Int
    public var options: PretrainOptions
    public var corpusSHA256: String
    public var corpusRecords: Int

    static let stateFile = CheckpointFiles.stateFile

    struct State: Codable {
        var step: Int
        var optimizerSteps: Int
        var options: PretrainOptions
        var corpusSHA256: String
        var corpusRecords: Int
        enum CodingKeys: String, CodingKey {
            case step, options
            case optimizerSteps = "optimizer_steps", corpusSHA256 = "corpus_sha256", corpusRecords = "corpus_records"
        }
    }

    /// The checkpoint directory name for `step` under a run's output directory.
    public static func directory(in out: URL, step: Int) -> URL {
        out.appendingPathComponent("checkpoints").appendingPathComponent(String(format: "step-%07d", step))
    }

    /// Writes a checkpoint as a whole (`AtomicDirectory`), so a crash leaves the previous one intact.
    public static func save(_ model: MultiTaskGuard, optimizer: AdamW, step: Int, options: PretrainOptions,
                            corpus: any CorpusRecordSource, to dir: URL) throws {
        try AtomicDirectory.write(dir) { tmp in
            try model.write(into: tmp, maxLength: options.maxLength, recipe: nil)
            try CheckpointFiles.write(optimizer, state: State(step: step, optimizerSteps: optimizer.stepCount, options: options,
                                                              corpusSHA256: corpus.sha256, corpusRecords: corpus.count), into: tmp)
        }
    }

    /// The steps of the checkpoints under a run's output directory, ascending (temporaries of a write in
    /// progress or interrupted are not checkpoints).
    public static func steps(in out: URL) -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("checkpoints").path)) ?? []
        return names.compactMap { name in
            guard name.hasPrefix("step-"), let step = Int(name.dropFirst(5)) else { return nil }
            return step
        }.sorted()
    }

    /// Reads a checkpoint directory, or the latest `checkpoints/step-*` inside a run's output directory.
    public static func locate(_ path: URL) throws -> PretrainCheckpoint {
        let dir = try CheckpointFiles.locate(path)
        let url = dir.appendingPathComponent(stateFile)
        guard let data = FileManager.default.contents(atPath: url.path) else { throw ModelError.missingFile(path: url.path, hint: "not a pretraining checkpoint") }
        let s: State
        do { s = try JSONDecoder().decode(State.self, from: data) } catch {
            throw ModelError.badConfig(path: url.path, field: "-", reason: "unreadable trainer state (\(error)); the checkpoint is damaged, resume from an earlier one")
        }
        return PretrainCheckpoint(directory: dir, step: s.step, optimizerSteps: s.optimizerSteps, options: s.options,
                                  corpusSHA256: s.corpusSHA256, corpusRecords: s.corpusRecords)
    }

    /// Restores AdamW's moments and step count (the parameters come from loading `directory` as the model).
    public func restore(into optimizer: AdamW) throws {
        try CheckpointFiles.restore(optimizer, from: directory, steps: optimizerSteps)
    }
}
