@testable import Cluster
import Foundation
import Runtime
import TestHelpers
import XCTest

/// A training rank played by the test on a FakeWorker: rendezvous key/values, progress, rank 0's checkpoint offer
/// (serving the coordinator's BlobRequests with BlobChunk + one raw frame), results.
extension FakeWorker {
    /// Registers again listing the tasks it still runs, as a real worker does after a coordinator restart.
    func registerHolding() throws {
        var register = Uniguard_V1_RegisterWorker()
        register.workerID = id
        register.hostname = "fake"
        register.slots = 1
        register.runningTaskIds = held
        try send(.registerWorker(register))
    }

    /// The next TrainStepTask assignment (other assignments are an error).
    func nextTrainTask(timeout: TimeInterval = 30) throws -> Uniguard_V1_TaskAssignment {
        let assignment = try nextAssignment(timeout: timeout)
        guard case .trainStep? = assignment.kind else { throw TestFailure("\(id): expected a train_step task, got \(assignment)") }
        return assignment
    }

    /// One rendezvous operation; returns the reply, or the error the coordinator answered.
    func keyValue(_ taskID: String, key: String, set value: Data? = nil) throws -> Result<Uniguard_V1_KeyValueReply, CoordinatorRefusal> {
        var request = Uniguard_V1_KeyValueRequest()
        request.taskID = taskID
        request.key = key
        if let value {
            request.set = true
            request.value = value
        }
        try send(.keyValueRequest(request))
        return try waitFor("key/value reply") { payload -> Result<Uniguard_V1_KeyValueReply, CoordinatorRefusal>? in
            switch payload {
            case .keyValueReply(let r) where r.key == key: return .success(r)
            case .error(let e) where e.code != .unknownSender: return .failure(CoordinatorRefusal(error: e))
            default: return nil
            }
        }
    }

    func progress(_ taskID: String, step: UInt64, loss: Double, samplesPerSecond: Double = 8) throws {
        var p = Uniguard_V1_TrainProgress()
        p.taskID = taskID
        p.attempt = 1
        p.step = step
        p.loss = loss
        p.mlmLoss = loss / 2
        p.classificationLoss = loss / 4
        p.adversarialLoss = loss / 8
        p.consistencyLoss = loss / 8
        p.samplesPerSecond = samplesPerSecond
        p.tokensPerSecond = samplesPerSecond * 32
        p.stepMs = 120
        p.allreduceMs = 20
        try send(.trainProgress(p))
    }

    /// Offers a checkpoint and serves the coordinator's requests for its files until it is committed (or refused).
    func offerCheckpoint(_ taskID: String, step: UInt64, files: [String: Data], jobID: String, corrupt: Bool = false,
                         timeout: TimeInterval = 60) throws -> Result<Uniguard_V1_CheckpointCommitted, CoordinatorRefusal> {
        var byHash: [String: Data] = [:]
        var ready = Uniguard_V1_CheckpointReady()
        ready.taskID = taskID
        ready.attempt = 1
        ready.step = step
        for (name, data) in files.sorted(by: { $0.key < $1.key }) {
            let hash = SHA256.hex(SHA256.hash(data))
            byHash[hash] = data
            var f = Uniguard_V1_ModelFile()
            f.name = name
            f.contentHash = hash
            f.sizeBytes = UInt64(data.count)
            ready.files.append(f)
        }
        try send(.checkpointReady(ready))
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let payload = try waitFor("blob request or checkpoint commit", timeout: deadline.timeIntervalSinceNow) { p -> WireEnvelope.OneOf_Payload? in
                switch p {
                case .blobRequest, .checkpointCommitted: return p
                case .error(let e) where e.code != .unknownSender: return p
                default: return nil
                }
            }
            switch payload {
            case .blobRequest(let request):
                guard let data = byHash[request.contentHash] else { throw TestFailure("\(id): asked for unknown blob \(request.contentHash)") }
                let start = Int(request.offset), end = min(data.count, start + Int(request.length))
                var chunk = Uniguard_V1_BlobChunk()
                chunk.contentHash = request.contentHash
                chunk.offset = request.offset
                chunk.length = UInt64(end - start)
                chunk.totalSize = UInt64(data.count)
                var bytes = data.subdata(in: start..<end)
                // A lying rank: the bytes served are not those the offer's hash names.
                if corrupt, !bytes.isEmpty { bytes[bytes.startIndex] ^= 0xFF }
                try send(.blobChunk(chunk), rawFrames: [bytes], jobID: jobID)
            case .checkpointCommitted(let c): return .success(c)
            case .error(let e): return .failure(CoordinatorRefusal(error: e))
            default: break
            }
        }
        throw TestFailure("\(id): checkpoint \(step) not committed within \(timeout) s")
    }

    func finish(_ taskID: String, step: UInt64, parametersHash: String) throws {
        var r = Uniguard_V1_TrainStepResult()
        r.step = step
        r.loss = 1
        r.parametersHash = parametersHash
        var result = Uniguard_V1_TaskResult()
        result.taskID = taskID
        result.attempt = 1
        result.trainStep = r
        try send(.taskResult(result))
    }

    /// The next CancelJob naming task ids; they leave `held` (the worker stopped them).
    func nextTaskCancel(timeout: TimeInterval = 30) throws -> Uniguard_V1_CancelJob {
        let cancel = try waitFor("cancel of tasks", timeout: timeout) { p -> Uniguard_V1_CancelJob? in
            if case .cancelJob(let c) = p { return c } else { return nil }
        }
        held.removeAll { cancel.taskIds.isEmpty || cancel.taskIds.contains($0) }
        return cancel
    }
}

/// The next train task of each worker, pumping all of them meanwhile (a worker left waiting would miss heartbeats).
func nextTrainTasks(_ workers: [FakeWorker], timeout: TimeInterval = 30) throws -> [Uniguard_V1_TaskAssignment] {
    var found: [Int: Uniguard_V1_TaskAssignment] = [:]
    let deadline = Date().addingTimeInterval(timeout)
    while found.count < workers.count && Date() < deadline {
        for (i, worker) in workers.enumerated() where found[i] == nil {
            found[i] = try? worker.nextTrainTask(timeout: 0.15)
        }
    }
    guard found.count == workers.count else { throw TestFailure("no train task for \(workers.indices.filter { found[$0] == nil }.map { workers[$0].id }) within \(timeout) s") }
    return workers.indices.map { found[$0]! }
}

extension TestCluster {
    /// A tiny base model and a small GIP corpus in the cluster directory, and a pretrain job over them.
    func writePretrainJob(steps: Int, checkpointEvery: Int, workers: Int, batch: Int = 4, output: String? = nil) throws -> String {
        let base = try TestSupport.tinyBase(in: URL(fileURLWithPath: "\(root)/base"))
        let lines = (0..<64).map { "{\"text\":\"Instruct: be safe [SEP] Query: record \($0)\",\"label\":\"\($0 % 3 == 0 ? "unsafe" : "safe")\",\"policy\":\"p\($0 % 2)\"}" }
        try (lines.joined(separator: "\n") + "\n").write(toFile: "\(root)/corpus.jsonl", atomically: true, encoding: .utf8)
        var yaml = """
            kind: pretrain
            name: gip
            corpus: corpus.jsonl
            base: \(base.path)
            steps: \(steps)
            batch: \(batch)
            max_length: 32
            checkpoint_every: \(checkpointEvery)
            workers: \(workers)
            rendezvous_timeout_ms: 5000
            """
        if let output { yaml += "\noutput: \(output)" }
        let path = "\(root)/pretrain.yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

/// An Error reply of the coordinator, as a Swift error.
struct CoordinatorRefusal: Error {
    var error: Uniguard_V1_Error
}

/// Checkpoint files as rank 0 would offer them: model files plus optimizer and trainer state.
enum FakeCheckpoint {
    static func files(step: Int, modelBytes: Int = 2_500_000) -> [String: Data] {
        var model = Data(count: modelBytes)
        model.withUnsafeMutableBytes { raw in
            for i in 0..<raw.count { raw[i] = UInt8(truncatingIfNeeded: (i &* 31) ^ (step &* 7919) ^ (i >> 9)) }
        }
        return [
            "model.safetensors": model,
            "config.json": Data("{\"model_type\":\"bert\"}".utf8),
            "uniguard.json": Data("{\"step\":\(step)}".utf8),
            "optimizer.safetensors": Data(repeating: UInt8(step), count: 4096),
            "trainer_state.json": Data("{\"step\":\(step)}".utf8),
            "empty.txt": Data(),
        ]
    }
}
