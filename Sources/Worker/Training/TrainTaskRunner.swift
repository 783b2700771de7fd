import Cluster
import Collectives
import DataParallel
import EncoderModel
import Foundation
import GuardData
import Guards
import Logging
import Runtime
import Training

/// Runs one rank of a training generation on a slot thread: rebuilds the start model (or checkpoint) directory
/// from cached blobs, loads it, resumes the trainer state when the checkpoint has one, meets its peers through the
/// coordinator's key/values, and runs the same loop as `uniguard pretrain` / `uniguard train` with a Gloo reducer.
/// Rank 0 offers each checkpoint to the coordinator. Cancellation (CancelJob) stops every rank at the next step
/// boundary; a broken group (a peer gone) ends the task with an error.
struct TrainTaskRunner {
    let cache: BlobCache
    let services: TrainingServices

    /// The task's outcome at end_step: the step reached, the last loss, samples and the parameters' hash.
    struct Outcome {
        var step: Int
        var loss: Double
        var examples: Int
        var parametersHash: String
        var stopped: Bool
    }

    func run(_ task: Uniguard_V1_TrainStepTask, taskID: String, attempt: UInt32, jobID: String) throws -> Outcome {
        guard task.ringSize >= 1, task.ringRank < task.ringSize else {
            throw WorkerError("rank \(task.ringRank) of \(task.ringSize) is not a valid place in a group")
        }
        guard task.endStep > task.step else { throw WorkerError("end step \(task.endStep) is not after the start step \(task.step)") }
        let start = try cache.materialize(ModelBlobSet(wire: task.checkpoint))
        let startURL = URL(fileURLWithPath: start)
        let output = services.runDirectory(jobID: jobID, generation: task.ringGeneration)
        let group = try connect(task, taskID: taskID, jobID: jobID)
        services.logger.info("\(taskID): rank \(task.ringRank) of \(task.ringSize) connected (gradients via \(services.dataAddress)); steps \(task.step)..<\(task.endStep)")
        defer { group.close() }  // peers blocked on this rank see it gone
        // The job's collective_timeout_ms bounds each all-reduce (the group's own timeout is the rendezvous one).
        let timer = TimedReducer(GlooGradientReducer(group: group, timeout: task.collectiveTimeoutMs > 0 ? .milliseconds(Int(task.collectiveTimeoutMs)) : nil))
        let shouldStop = { [services] in services.isCancelled(taskID) }
        let reporter = TrainProgressReporter(bridge: services.bridge, jobID: jobID, taskID: taskID, attempt: attempt,
                                             endStep: Int(task.endStep), timer: timer, isCancelled: shouldStop)
        let offer: (URL, Int) -> Void = { dir, step in
            do {
                var ready = Uniguard_V1_CheckpointReady()
                ready.taskID = taskID
                ready.attempt = attempt
                ready.step = UInt64(step)
                ready.files = try services.offer(directory: dir)
                services.bridge.post(.checkpointReady(ready), jobID: jobID)
            } catch {
                // The run goes on; the coordinator commits the next checkpoint it is offered.
                services.logger.error("cannot offer checkpoint \(dir.path): \(error)")
            }
        }
        switch task.trainingKind {
        case "pretrain":
            return try pretrain(task, start: startURL, output: output, reducer: timer, reporter: reporter, jobID: jobID,
                                shouldStop: shouldStop, offer: offer)
        case "finetune":
            return try finetune(task, start: startURL, output: output, reducer: timer, reporter: reporter,
                                shouldStop: shouldStop, offer: offer)
        default:
            throw WorkerError("unknown training kind '\(task.trainingKind)' (this worker runs pretrain and finetune)")
        }
    }

    /// Rendezvous: this rank's address under the generation's prefix, every peer's, and connections to them.
    private func connect(_ task: Uniguard_V1_TrainStepTask, taskID: String, jobID: String) throws -> RingAllReduce {
        let store = CoordinatorKeyValueStore(bridge: services.bridge, jobID: jobID, taskID: taskID,
                                             isCancelled: { [services] in services.isCancelled(taskID) })
        let prefix = task.rendezvousPrefix.isEmpty ? "\(jobID)/gen-\(task.ringGeneration)" : task.rendezvousPrefix
        let timeout = Duration.milliseconds(Int(task.rendezvousTimeoutMs == 0 ? 60_000 : task.rendezvousTimeoutMs))
        return try RingAllReduce(rank: Int(task.ringRank), size: Int(task.ringSize),
                                 store: RendezvousStore.keyValue(store).prefixed(prefix),
                                 device: services.tcpDevice(), timeout: timeout)
    }

    private func pretrain(_ task: Uniguard_V1_TrainStepTask, start: URL, output: URL, reducer: TimedReducer,
                          reporter: TrainProgressReporter, jobID: String, shouldStop: @escaping () -> Bool,
                          offer: @escaping (URL, Int) -> Void) throws -> Outcome {
        var options = try decode(PretrainOptions.self, task.settingsJson)
        guard options.steps == Int(task.endStep) else {
            throw WorkerError("settings say \(options.steps) steps but the task ends at step \(task.endStep)")
        }
        // A cluster job always ends with a checkpoint: the coordinator exports the final model from it.
        if options.checkpointEvery <= 0 { options.checkpointEvery = options.steps }
        guard ModelBlobSet.isHexHash(task.indexHash), cache.has(task.indexHash) else {
            throw WorkerError("the corpus index \(task.indexHash.prefix(16)) is not cached")
        }
        let corpus = try RemoteCorpus(indexPath: cache.path(task.indexHash), corpusHash: task.shard.corpusHash,
                                      corpusBytes: task.shardSizeBytes, sharedPath: task.shard.sharedPath,
                                      cache: services.recordCache(corpusHash: task.shard.corpusHash),
                                      bridge: services.bridge, jobID: jobID)
        if corpus.readsInPlace { services.logger.info("\(task.shard.sharedPath): corpus records read in place (shared filesystem)") }
        let model = try MultiTaskGuard(directory: start, seed: options.seed)
        let run = try PretrainRun(model: model, corpus: corpus, options: options, output: output, reducer: reducer)
        if FileManager.default.fileExists(atPath: start.appendingPathComponent("trainer_state.json").path) {
            try run.resume(from: PretrainCheckpoint.locate(start))
        }
        guard run.step == Int(task.step) else {
            throw WorkerError("the start checkpoint is at step \(run.step) but the task starts at step \(task.step)")
        }
        run.shouldStop = shouldStop
        let firstStep = run.step
        try run.run(onProgress: { [services] progress, losses in
            reporter.report(progress, terms: (Double(losses.mlm), Double(losses.classification), Double(losses.adversarial),
                                              Double(losses.consistency)))
            services.pauseAfterStep()
        }, onCheckpoint: offer)
        return Outcome(step: run.step, loss: reporter.lastLoss, examples: (run.step - firstStep) * options.batch,
                       parametersHash: Self.parametersHash(model.params), stopped: run.step < options.steps)
    }

    private func finetune(_ task: Uniguard_V1_TrainStepTask, start: URL, output: URL, reducer: TimedReducer,
                          reporter: TrainProgressReporter, shouldStop: @escaping () -> Bool,
                          offer: @escaping (URL, Int) -> Void) throws -> Outcome {
        // `train` (a path the worker does not use) may be left out of the settings: fill it in to decode them.
        var json = task.settingsJson
        if var object = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any], object["train"] == nil {
            object["train"] = ""
            json = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }
        var settings = try decode(FinetuneSettings.self, json)
        let validationName = settings.val.map { ($0 as NSString).lastPathComponent }
        // The data comes from the blobs of the task (paths in the settings are the coordinator's).
        settings.train = try dataPath(task.shard, size: task.shardSizeBytes, what: "training samples")
        settings.val = task.validation.corpusHash.isEmpty ? nil
            : try dataPath(task.validation, size: task.validationSizeBytes, what: "validation samples")
        let policies: PolicyPack
        if let dir = settings.policies, FileManager.default.fileExists(atPath: dir) {
            policies = try PolicyPack.load(directory: dir)
        } else {
            policies = try PolicyPack.loadBundled()
        }
        let resume = FileManager.default.fileExists(atPath: start.appendingPathComponent("trainer_state.json").path)
            ? try FinetuneCheckpoint.locate(start) : nil
        let job = try FinetuneJob.prepare(settings, base: start, policies: policies, resume: resume)
        var options = settings.options
        let total = (job.examples.count + options.batch - 1) / options.batch * options.epochs
        guard total == Int(task.endStep) else {
            throw WorkerError("the settings give \(total) steps but the task ends at step \(task.endStep); the data differ from the coordinator's")
        }
        // A cluster job always ends with a checkpoint: the coordinator exports the final model from it.
        if options.checkpointEvery <= 0 { options.checkpointEvery = total }
        let run = try FinetuneRun(model: job.model, options: options, examples: job.examples, validation: job.validation,
                                  output: output, reducer: reducer)
        if let resume { try run.resume(from: resume) }
        run.targetFPR = settings.targetFPR
        run.validationSource = validationName
        guard run.step == Int(task.step) else {
            throw WorkerError("the start checkpoint is at step \(run.step) but the task starts at step \(task.step)")
        }
        run.shouldStop = shouldStop
        let firstStep = run.step
        var f1 = Double.nan
        try run.run(onProgress: { [services] in reporter.report($0, validationF1: f1); services.pauseAfterStep() },
                    onEpoch: { summary in if let v = summary.validation { f1 = v.f1 } },
                    onCheckpoint: offer)
        return Outcome(step: run.step, loss: reporter.lastLoss, examples: (run.step - firstStep) * settings.batch,
                       parametersHash: Self.parametersHash(job.model.params), stopped: run.step < run.totalSteps)
    }

    /// A data file of the task: the shared path when it is there with the right size, else the cached blob.
    private func dataPath(_ range: Uniguard_V1_ShardRange, size: UInt64, what: String) throws -> String {
        if !range.sharedPath.isEmpty,
           ((try? FileManager.default.attributesOfItem(atPath: range.sharedPath))?[.size] as? NSNumber)?.uint64Value == size {
            return range.sharedPath
        }
        guard cache.has(range.corpusHash) else { throw WorkerError("the \(what) \(range.corpusHash.prefix(16)) are not cached") }
        return cache.path(range.corpusHash)
    }

    private func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
        do { return try JSONDecoder().decode(type, from: Data(json.utf8)) } catch {
            throw WorkerError("the task's settings_json is not \(type) settings: \(error)")
        }
    }

    /// SHA-256 of the flat parameter buffer (little-endian floats): equal on every rank of a healthy group.
    static func parametersHash(_ params: ParameterStore) -> String {
        var hasher = SHA256()
        hasher.update(UnsafeBufferPointer(start: UnsafeRawPointer(params.values.data).assumingMemoryBound(to: UInt8.self),
                                          count: params.count * MemoryLayout<Float>.size))
        return SHA256.hex(hasher.finalize())
    }
}
