import EncoderModel
import Foundation
import GuardData
import Guards
import Runtime
import Training

/// A training job after submission: its spec, the data file(s) and base model as blobs, the corpus index (pretrain),
/// the total steps and the settings every rank reads. Stored as JSON with the job, so a restarted coordinator
/// indexes and hashes nothing again.
public struct PreparedTraining: Codable, Sendable, Equatable {
    /// A file served to workers by content hash.
    public struct Blob: Codable, Sendable, Equatable {
        public var path: String
        public var hash: String
        public var size: UInt64
        public init(path: String, hash: String, size: UInt64) {
            self.path = path
            self.hash = hash
            self.size = size
        }
    }

    public var spec: TrainingJobSpec
    public var base: ModelBlobSet
    /// Pretrain: the corpus. Finetune: the training samples.
    public var data: Blob
    /// Records (pretrain) or the policy's training samples (finetune).
    public var records: Int
    /// Pretrain: the on-disk record-range index (`CorpusRangeIndex`) in the coordinator's state directory.
    public var index: Blob?
    /// Finetune: validation samples.
    public var validation: Blob?
    public var totalSteps: Int
    /// Pretrain: the corpus's policies, recorded in the exported model (nil in jobs stored before they were).
    public var policies: [String]? = nil
    /// `TrainStepTask.settings_json`: PretrainOptions or the fine-tuning settings, snake_case keys.
    public var settingsJSON: String

    /// Checks the base model against the settings, indexes the corpus into `stateDirectory` (streaming: memory does
    /// not grow with the corpus) or counts the fine-tuning samples, and hashes every file. `knownHash` skips files
    /// already hashed (path, size, mtime).
    public static func prepare(_ spec: TrainingJobSpec, stateDirectory: String,
                               knownHash: (String, UInt64, Int64) -> String? = { _, _, _ in nil }) throws -> PreparedTraining {
        let baseDirectory = try spec.base ?? UniGuardHome.requireBaseModel().path
        let positions: Int
        do { positions = try ModelDirectory(URL(fileURLWithPath: baseDirectory)).config.maxSequenceLength } catch {
            throw JobSpecError(source: spec.name, key: "base", reason: "\(baseDirectory) is not a usable model directory: \(error)")
        }
        guard spec.maxLength <= positions else {
            throw JobSpecError(source: spec.name, key: "max_length", reason: "\(spec.maxLength) is more than the \(positions) positions of the base model \(baseDirectory)")
        }
        // The export replaces `output` as a whole: it must be a new or model directory and never an input.
        if let output = spec.output {
            do {
                try OutputPath.refuseInputs(output, [("base", baseDirectory), ("corpus/train", spec.data)] + (spec.validation.map { [("val", $0)] } ?? []))
                try OutputPath.requireModelDirectory(output)
            } catch let error as OutputPathError {
                throw JobSpecError(source: spec.name, key: "output", reason: error.description)
            }
        }
        let base: ModelBlobSet
        do { base = try ModelBlobSet.describe(directory: baseDirectory, knownHash: knownHash) } catch let error as JobSpecError {
            throw JobSpecError(source: spec.name, key: "base", reason: "\(baseDirectory): \(error.reason)")
        }
        switch spec.kind {
        case .pretrain:
            let options = spec.pretrain ?? PretrainOptions()
            let (data, index, records, policies) = try indexCorpus(spec.data, stateDirectory: stateDirectory, knownHash: knownHash)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return PreparedTraining(spec: spec, base: base, data: data, records: records, index: index, validation: nil,
                                    totalSteps: options.steps, policies: policies,
                                    settingsJSON: String(decoding: try encoder.encode(options), as: UTF8.self))
        case .finetune:
            let settings = spec.finetune ?? FinetuneSettings(train: spec.data, policy: spec.policy ?? "")
            let policy = settings.policy
            try checkPolicy(policy, pack: settings.policies)
            let samples = try countSamples(spec.data, policy: policy, key: "train", skipInvalid: settings.skipInvalid)
            guard samples > 0 else {
                throw JobSpecError(source: spec.name, key: "policy", reason: "\(spec.data) has no samples for policy '\(policy)'")
            }
            let validation = try spec.validation.map { path -> Blob in
                _ = try countSamples(path, policy: policy, key: "val", skipInvalid: settings.skipInvalid)
                return try blob(path, key: "val", knownHash: knownHash)
            }
            let steps = spec.epochs * ((samples + spec.batch - 1) / spec.batch)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return PreparedTraining(spec: spec, base: base, data: try blob(spec.data, key: "train", knownHash: knownHash),
                                    records: samples, index: nil, validation: validation, totalSteps: steps,
                                    settingsJSON: String(decoding: try encoder.encode(settings), as: UTF8.self))
        }
    }

    /// A pretrain job's uniguard.json recipe and `pretraining` block, as `uniguard pretrain` writes them (nil: a
    /// finetune job, or one stored before the corpus's policies were kept).
    public var pretrainingProvenance: (recipe: GuardMetadata.Recipe, extra: [String: Any])? {
        guard spec.kind == .pretrain, let policies else { return nil }
        return PretrainRun.provenance(options: spec.pretrain ?? PretrainOptions(), records: records, corpusSHA256: data.hash,
                                      policies: policies, corpusName: spec.data)
    }

    /// What an index build found, kept beside the index so a resubmitted corpus is not read again.
    struct IndexSummary: Codable {
        var records: Int
        var indexSHA256: String
        var indexBytes: UInt64
        var corpusBytes: UInt64
        /// Absent in summaries written before it was kept: the corpus is indexed again.
        var policies: [String]?
    }

    /// Indexes a corpus into `<state>/corpus-index/<corpus sha256>.index` once (every line decoded; the first bad one
    /// is an error naming file:line:field).
    static func indexCorpus(_ corpus: String, stateDirectory: String, knownHash: (String, UInt64, Int64) -> String?)
        throws -> (Blob, Blob, Int, [String])
    {
        let fm = FileManager.default
        let (size, mtime) = try fileStamp(corpus, key: "corpus")
        let directory = (stateDirectory as NSString).appendingPathComponent("corpus-index")
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func paths(_ hash: String) -> (String, String) {
            let index = (directory as NSString).appendingPathComponent("\(hash).index")
            return (index, index + ".json")
        }
        if let hash = knownHash(corpus, size, mtime) {
            let (index, summaryPath) = paths(hash)
            if let data = fm.contents(atPath: summaryPath), let summary = try? JSONDecoder().decode(IndexSummary.self, from: data),
               summary.corpusBytes == size, let policies = summary.policies, fm.fileExists(atPath: index) {
                return (Blob(path: corpus, hash: hash, size: size), Blob(path: index, hash: summary.indexSHA256, size: summary.indexBytes),
                        summary.records, policies)
            }
        }
        let building = (directory as NSString).appendingPathComponent("building-\(UUID().uuidString).index")
        defer { try? fm.removeItem(atPath: building) }
        let summary: CorpusRangeIndex.Summary
        do { summary = try CorpusRangeIndex.build(corpus: corpus, index: building) } catch let error as SampleError {
            throw JobSpecError(source: "job", key: "corpus", reason: error.description)
        }
        let (index, summaryPath) = paths(summary.corpusSHA256)
        try? fm.removeItem(atPath: index)
        try fm.moveItem(atPath: building, toPath: index)
        let policies = summary.counts.keys.sorted()
        let record = IndexSummary(records: summary.records, indexSHA256: summary.indexSHA256, indexBytes: summary.indexBytes,
                                  corpusBytes: summary.corpusBytes, policies: policies)
        try JSONEncoder().encode(record).write(to: URL(fileURLWithPath: summaryPath), options: .atomic)
        return (Blob(path: corpus, hash: summary.corpusSHA256, size: summary.corpusBytes),
                Blob(path: index, hash: summary.indexSHA256, size: summary.indexBytes), summary.records, policies)
    }

    /// Samples of `policy` in a JSONL file, streamed; a bad line is an error naming file:line:field.
    static func countSamples(_ path: String, policy: String, key: String, skipInvalid: Bool) throws -> Int {
        _ = try fileStamp(path, key: key)
        do {
            let reader = try SampleReader(path: path, skipInvalid: skipInvalid)
            var count = 0
            while let sample = try reader.nextSample() {
                if sample.policy == policy { count += 1 }
            }
            return count
        } catch let error as SampleError {
            throw JobSpecError(source: "job", key: key, reason: error.description)
        }
    }

    /// The policy must be in the pack the job names, or in the bundled pack when it can be found here.
    static func checkPolicy(_ policy: String, pack directory: String?) throws {
        guard let directory = directory ?? PolicyPack.locateBundled() else { return }
        let pack: PolicyPack
        do { pack = try PolicyPack.load(directory: directory) } catch {
            throw JobSpecError(source: "job", key: "policies", reason: "\(directory): \(error)")
        }
        do { _ = try pack.policy(policy) } catch {
            throw JobSpecError(source: "job", key: "policy", reason: "\(error)")
        }
    }

    static func blob(_ path: String, key: String, knownHash: (String, UInt64, Int64) -> String?) throws -> Blob {
        let (size, mtime) = try fileStamp(path, key: key)
        return Blob(path: path, hash: try knownHash(path, size, mtime) ?? SHA256.hexDigest(ofFile: path), size: size)
    }

    static func fileStamp(_ path: String, key: String) throws -> (UInt64, Int64) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
              let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        else { throw JobSpecError(source: path, key: key, reason: "file not found (relative paths resolve against the job file)") }
        let size = (attributes[.size] as? NSNumber)?.uint64Value ?? 0
        let mtime = Int64(((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0) * 1000)
        return (size, mtime)
    }

    /// Every blob the job's tasks reference, hash → coordinator path.
    public var blobPaths: [String: (path: String, size: UInt64)] {
        var out: [String: (String, UInt64)] = [data.hash: (data.path, data.size)]
        if let index { out[index.hash] = (index.path, index.size) }
        if let validation { out[validation.hash] = (validation.path, validation.size) }
        for f in base.files { out[f.hash] = ((base.path as NSString).appendingPathComponent(f.name), f.size) }
        return out
    }

    /// Checkpoint files that are not part of the model directory (not exported).
    public static let trainerStateFiles: Set<String> = ["optimizer.safetensors", "trainer_state.json"]

    /// The wire task for rank `rank` of a generation. `checkpoint` nil: start from the base model at step 0.
    public func assignment(taskID: String, generation: Int, rank: Int, peers: [String], startStep: Int,
                           checkpoint: ModelBlobSet?, deadlineUnixMs: UInt64, rendezvousPrefix: String,
                           sharedPaths: Bool) -> Uniguard_V1_TaskAssignment {
        var task = Uniguard_V1_TrainStepTask()
        task.step = UInt64(startStep)
        task.checkpoint = checkpoint?.wire(sharedPath: false) ?? base.wire(sharedPath: sharedPaths)
        var shard = Uniguard_V1_ShardRange()
        shard.corpusHash = data.hash
        shard.firstLine = 0
        shard.lineCount = UInt64(records)
        shard.shardHash = data.hash
        if sharedPaths { shard.sharedPath = data.path }
        task.shard = shard
        task.shardSizeBytes = data.size
        task.learningRate = Double(spec.pretrain?.lr ?? 0)
        if let lr = spec.finetune?.lr { task.learningRate = lr }
        task.seed = spec.pretrain?.seed ?? spec.finetune?.seed ?? 42
        task.ringPeers = peers
        task.ringRank = UInt32(rank)
        task.ringSize = UInt32(peers.count)
        task.ringGeneration = UInt64(generation)
        task.trainingKind = spec.kind.rawValue
        task.settingsJson = settingsJSON
        task.endStep = UInt64(totalSteps)
        if let index {
            task.indexHash = index.hash
            task.indexSizeBytes = index.size
        }
        if let validation {
            var range = Uniguard_V1_ShardRange()
            range.corpusHash = validation.hash
            range.shardHash = validation.hash
            if sharedPaths { range.sharedPath = validation.path }
            task.validation = range
            task.validationSizeBytes = validation.size
        }
        task.rendezvousPrefix = rendezvousPrefix
        task.rendezvousTimeoutMs = UInt32(spec.rendezvousTimeoutMs)
        task.collectiveTimeoutMs = UInt32(spec.collectiveTimeoutMs)

        var assignment = Uniguard_V1_TaskAssignment()
        assignment.taskID = taskID
        assignment.attempt = 1
        assignment.leaseDeadlineUnixMs = deadlineUnixMs
        assignment.trainStep = task
        return assignment
    }
}
