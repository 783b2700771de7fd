import Cluster
import Foundation
import Runtime

/// What ranks send while they train: rendezvous key/values, progress, and rank 0's checkpoints (pulled from it
/// chunk by chunk, verified, committed, then acknowledged). Only the current generation's holder of a task counts.
extension CoordinatorServer {
    /// Limits of a generation's Gloo store: a value, a key, and the whole store.
    static let maxKeyValueBytes = 64 << 10
    static let maxKeyBytes = 512
    static let maxStoreBytes = 32 << 20
    /// Files a checkpoint may have, and their total size.
    static let maxCheckpointFiles = 64
    static let maxCheckpointBytes: UInt64 = 1 << 40

    /// The rank behind a task id sent by `workerID`, or nil after an error reply (old generation, not the holder).
    private func holdingRank(_ taskID: String, from workerID: String, peer: Data, requestID: UInt64, what: String)
        -> (TrainingRuntime, Int)?
    {
        guard let job = trainingJob(forTask: taskID), job.state == .running else {
            sendError(.unknownTask, "\(taskID.prefix(120)) is not a task of a running training job", to: peer, replyTo: requestID)
            return nil
        }
        switch job.holder(taskID, worker: workerID) {
        case .success(let rank):
            return (job, rank)
        case .failure(let why):
            rejectLog.warning("\(what) for \(LogSafe.text(taskID)) from worker \(workerID) rejected: \(why)")
            let code: Uniguard_V1_ErrorCode = job.current?.rank(ofTask: taskID) == nil ? .leaseExpired : .unauthorized
            sendError(code, "\(what) rejected: \(LogSafe.text(taskID, limit: 120)): \(why)", to: peer, replyTo: requestID, jobID: job.id)
            return nil
        }
    }

    // MARK: Rendezvous

    func handleKeyValue(_ request: Uniguard_V1_KeyValueRequest, from workerID: String, peer: Data, requestID: UInt64) {
        // Only the prefix is copied out: holding the generation would make the in-place store update copy the store.
        guard let (job, _) = holdingRank(request.taskID, from: workerID, peer: peer, requestID: requestID, what: "key/value request"),
              let prefix = job.current?.prefix else { return }
        guard request.key.hasPrefix(prefix + "/"), request.key.utf8.count <= Self.maxKeyBytes else {
            rejectLog.warning("key \(LogSafe.text(request.key, limit: 120)) from worker \(workerID) is outside \(prefix)/; rejected")
            sendError(.malformed, "keys of this task must start with \(prefix)/ and be at most \(Self.maxKeyBytes) bytes", to: peer,
                      replyTo: requestID, jobID: job.id)
            return
        }
        var reply = Uniguard_V1_KeyValueReply()
        reply.key = request.key
        if request.set {
            guard request.value.count <= Self.maxKeyValueBytes else {
                sendError(.frameTooLarge, "a rendezvous value is at most \(Self.maxKeyValueBytes) bytes (got \(request.value.count))",
                          to: peer, replyTo: requestID, jobID: job.id)
                return
            }
            // Keys count too, so a flood of empty values is bounded as well.
            let old = job.current?.keyValues[request.key].map { $0.count + request.key.utf8.count } ?? 0
            let grown = (job.current?.keyValueBytes ?? 0) - old + request.value.count + request.key.utf8.count
            guard grown <= Self.maxStoreBytes else {
                sendError(.busy, "the rendezvous store of \(prefix) is full (\(Self.maxStoreBytes) bytes)", to: peer,
                          replyTo: requestID, jobID: job.id)
                return
            }
            job.current?.keyValues[request.key] = request.value
            job.current?.keyValueBytes = grown
            reply.found = true  // the value is not echoed back
        } else if let value = job.current?.keyValues[request.key] {
            reply.found = true
            reply.value = value
        }
        send(.keyValueReply(reply), to: peer, jobID: job.id, replyTo: requestID)
    }

    // MARK: Progress

    /// Keeps the newest progress for status; a step that advanced renews the rank's lease.
    func handleProgress(_ progress: Uniguard_V1_TrainProgress, from workerID: String, peer: Data, requestID: UInt64) {
        guard let (job, rank) = holdingRank(progress.taskID, from: workerID, peer: peer, requestID: requestID, what: "progress"),
              let g = job.current else { return }
        guard progress.attempt == 1, progress.step >= UInt64(g.startStep), progress.step <= UInt64(job.totalSteps) else {
            rejectLog.warning("progress of \(LogSafe.text(progress.taskID)) from \(workerID): attempt \(progress.attempt), step \(progress.step) outside \(g.startStep)...\(job.totalSteps); ignored")
            return
        }
        let now = UnixTime.nowMs()
        let step = Int(progress.step)
        if step > g.ranks[rank].lastStep {
            job.current?.ranks[rank].lastStep = step
            job.current?.ranks[rank].lastStepUnixMs = now
            job.current?.ranks[rank].deadlineUnixMs = now + UInt64(config.leaseTimeoutMs)
        }
        job.current?.ranks[rank].stepMs = progress.stepMs.isFinite ? progress.stepMs : 0
        job.current?.ranks[rank].allreduceMs = progress.allreduceMs.isFinite ? progress.allreduceMs : 0
        if step >= Int(job.progress?.step ?? 0) {
            job.progress = progress
            job.progressUnixMs = now
        }
    }

    // MARK: Checkpoints

    /// Rank 0 offers a checkpoint: the files the store lacks are pulled from it, then the checkpoint is committed.
    func handleCheckpointReady(_ ready: Uniguard_V1_CheckpointReady, from workerID: String, peer: Data, requestID: UInt64) {
        guard let (job, rank) = holdingRank(ready.taskID, from: workerID, peer: peer, requestID: requestID, what: "checkpoint"),
              let g = job.current else { return }
        let step = Int(clamping: ready.step)
        var problem: String?
        if rank != 0 { problem = "only rank 0 offers checkpoints" }
        else if ready.attempt != 1 { problem = "attempt \(ready.attempt), not 1" }
        else if step <= job.committedStep || step < g.startStep || step > job.totalSteps {
            problem = "step \(step) is not after the committed step \(job.committedStep) and within \(g.startStep)...\(job.totalSteps)"
        } else if ready.files.isEmpty || ready.files.count > Self.maxCheckpointFiles { problem = "\(ready.files.count) files" }
        else if Set(ready.files.map(\.name)).count != ready.files.count { problem = "a file name is listed twice" }
        else if let bad = ready.files.first(where: { !ModelBlobSet.isPlainFileName($0.name) || !ModelBlobSet.isHexHash($0.contentHash) }) {
            problem = "bad file entry '\(LogSafe.text(bad.name, limit: 80))'"
        } else if !ready.files.contains(where: { $0.name == "model.safetensors" }) { problem = "no model.safetensors" }
        else if ready.files.contains(where: { $0.sizeBytes > Self.maxCheckpointBytes })
                    || ready.files.reduce(0 as UInt64, { $0 &+ min($1.sizeBytes, Self.maxCheckpointBytes) }) > Self.maxCheckpointBytes {
            problem = "the files exceed \(Self.maxCheckpointBytes >> 30) GiB"
        }
        else if job.fetch != nil { problem = "checkpoint \(job.fetch!.step) is still being received" }
        if let problem {
            rejectLog.warning("checkpoint \(step) of \(LogSafe.text(ready.taskID)) from \(workerID) refused: \(problem)")
            sendError(job.fetch != nil ? .busy : .malformed, "checkpoint refused: \(problem)", to: peer, replyTo: requestID, jobID: job.id)
            return
        }
        let files = ready.files.map { ModelBlobSet.File(name: $0.name, hash: $0.contentHash, size: $0.sizeBytes) }
        job.fetch = CheckpointFetch(taskID: ready.taskID, workerID: workerID, step: step, generation: g.number, files: files,
                                    store: checkpointStore)
        job.fetch?.offerMessageID = requestID
        logger.info("\(job.id): rank 0 offers checkpoint \(step) (\(files.count) files, \(job.fetch!.missing.count) to fetch)")
        continueFetch(job)
    }

    /// Requests the next chunk, or commits when every file is stored.
    func continueFetch(_ job: TrainingRuntime) {
        guard let fetch = job.fetch else { return }
        do {
            while try fetch.completeEmptyFile(store: checkpointStore) {}
        } catch {
            abandonFetch(job, reason: "\(error)")
            return
        }
        let chunk = UInt64(max(1, min(config.blobChunkBytes, config.maxFrameBytes - 4096)))
        guard let request = fetch.nextRequest(chunkBytes: chunk) else {
            commitCheckpoint(job, fetch)
            return
        }
        guard let member = membership.member(fetch.workerID) else {
            abandonFetch(job, reason: "worker \(fetch.workerID) is gone")
            return
        }
        let id = nextMessageID
        if send(.blobRequest(request), to: member.routingID, jobID: job.id) {
            fetch.requestMessageID = id
        } else {
            abandonFetch(job, reason: "cannot send a blob request to \(fetch.workerID)")
        }
    }

    /// One chunk of a checkpoint file from the worker we asked.
    func handleBlobChunk(_ chunk: Uniguard_V1_BlobChunk, raw: [Data], from workerID: String) {
        guard let job = trainingJobs.values.first(where: { $0.fetch?.workerID == workerID && $0.fetch?.currentFile?.hash == chunk.contentHash }),
              let fetch = job.fetch else {
            rejectLog.warning("unrequested blob chunk \(chunk.contentHash.prefix(16)) from worker \(workerID); dropped")
            return
        }
        do {
            _ = try fetch.receive(chunk, raw: raw, store: checkpointStore)
            continueFetch(job)
        } catch {
            abandonFetch(job, reason: "\(error)")
        }
    }

    /// An error reply from a worker: if it answers our blob request, the fetch stops.
    func handleWorkerError(_ error: Uniguard_V1_Error, replyTo: UInt64, from workerID: String) -> Bool {
        guard replyTo != 0, let job = trainingJobs.values.first(where: { $0.fetch?.workerID == workerID && $0.fetch?.requestMessageID == replyTo })
        else { return false }
        abandonFetch(job, reason: "worker \(workerID) answered \(error.code): \(LogSafe.text(error.message))")
        return true
    }

    /// Drops a checkpoint being received (not committed: the next one, or a later generation, tries again).
    func abandonFetch(_ job: TrainingRuntime, reason: String) {
        guard let fetch = job.fetch else { return }
        fetch.abandon()
        job.fetch = nil
        logger.warning("\(job.id): checkpoint \(fetch.step) not committed: \(reason)")
        if let member = membership.member(fetch.workerID) {
            sendError(.taskFailed, "checkpoint \(fetch.step) not committed: \(reason)", to: member.routingID,
                      replyTo: fetch.offerMessageID, jobID: job.id)
        }
    }

    /// Every file verified and stored: commit (job, step, files, generation) in one transaction, serve the files as
    /// blobs, tell rank 0, and let waiting workers join (a new generation from this step) or finish the job.
    func commitCheckpoint(_ job: TrainingRuntime, _ fetch: CheckpointFetch) {
        job.fetch = nil
        let checkpoint = CommittedCheckpoint(step: fetch.step, generation: fetch.generation, files: fetch.files, committedMs: UnixTime.nowMs())
        do {
            try store.transaction {
                try store.commitCheckpoint(job: job.id, checkpoint)
                for file in checkpoint.files {
                    try store.recordBlob(hash: file.hash, path: checkpointStore.path(file.hash), size: file.size, mtimeMs: Self.mtimeMs(checkpointStore.path(file.hash)))
                }
                try store.dropCheckpoints(job: job.id, keepingNewest: Self.checkpointsKept)
            }
        } catch { storeFailed(error, "checkpoint commit") }
        job.committed = checkpoint
        job.failedGenerations = 0
        registerCheckpointBlobs(checkpoint)
        removeUnreferencedCheckpointFiles()
        logger.info("\(job.id): checkpoint \(checkpoint.step)/\(job.totalSteps) committed (generation \(checkpoint.generation))")
        if let member = membership.member(fetch.workerID) {
            var committed = Uniguard_V1_CheckpointCommitted()
            committed.taskID = fetch.taskID
            committed.step = UInt64(checkpoint.step)
            send(.checkpointCommitted(committed), to: member.routingID, jobID: job.id)
        }
        guard let g = job.current, g.number == fetch.generation else {
            if job.trainingFinished && job.current == nil { startTrainingExport(job) }
            return
        }
        if job.trainingFinished {
            checkTrainingCompletion(job)
            return
        }
        // A worker that became free meanwhile joins now: the ranks stop here, nothing committed is lost.
        let members = Set(g.members)
        let joiners = eligibleWorkersForJoin().filter { !members.contains($0) }
        if !joiners.isEmpty, g.ranks.count < job.prepared.spec.batch {
            endGeneration(job, reason: "worker(s) \(joiners.joined(separator: ", ")) join at step \(checkpoint.step)", failure: false,
                          joiners: joiners)
        }
    }

    /// Workers that could take a rank now (see `eligibleWorkers`).
    func eligibleWorkersForJoin() -> [String] { eligibleTrainingWorkers() }

    /// Committed checkpoints kept per training job: the newest is what a new generation or a restarted coordinator
    /// resumes from; one more in case its files turn out unreadable. A finished job keeps none (its model is exported).
    static let checkpointsKept = 2

    /// Deletes checkpoint files no kept checkpoint names (nor a checkpoint being received): without it the state
    /// directory grows by a model and its optimizer state (~3x the model) every `checkpoint_every` steps of every job.
    func removeUnreferencedCheckpointFiles() {
        do {
            var keep = try store.checkpointFileHashes()
            for job in trainingJobs.values { for file in job.fetch?.files ?? [] { keep.insert(file.hash) } }
            let removed = checkpointStore.removeUnreferenced(keeping: keep)
            blobs.unregister(removed)
            if !removed.isEmpty { logger.debug("removed \(removed.count) checkpoint files no kept checkpoint names") }
        } catch {
            logger.warning("checkpoint files not cleaned up: \(error)")
        }
    }

    func registerCheckpointBlobs(_ checkpoint: CommittedCheckpoint) {
        var paths: [String: (path: String, size: UInt64)] = [:]
        for file in checkpoint.files { paths[file.hash] = (checkpointStore.path(file.hash), file.size) }
        blobs.register(paths)
    }
}
