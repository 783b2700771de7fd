import Cluster
import Foundation
import Fusion
import Runtime

/// Parses and prepares submitted jobs (hashing models and validation data) off the event loop.
final class SubmissionQueue: Sendable {
    /// A finished preparation, waiting for the loop to commit it and reply.
    struct Finished: Sendable {
        var peer: Data
        var requestID: UInt64
        var yaml: String
        var submitter: String
        var result: Result<PreparedJob, Failure>
    }

    /// A prepared job of either family.
    enum PreparedJob: Sendable {
        case mergeSearch(PreparedMergeSearch)
        case training(PreparedTraining)
        case synthesis(PreparedSynthesis)
    }

    /// Why a job was refused (the text goes back to the client).
    struct Failure: Error, Sendable, CustomStringConvertible {
        var description: String
    }

    /// Known file hashes by `cacheKey`, so resubmitting the same models does not hash them again.
    let hashCache = Guarded<[String: String]>([:])
    private let finished = Guarded<[Finished]>([])
    private let queue = DispatchQueue(label: "uniguard.coordinator.submit")
    private let wake: WakePipe
    /// Where training jobs' corpus indexes are written.
    private let stateDirectory: String

    init(wake: WakePipe, stateDirectory: String) {
        self.wake = wake
        self.stateDirectory = stateDirectory
    }

    static func cacheKey(_ path: String, _ size: UInt64, _ mtimeMs: Int64) -> String { "\(path)|\(size)|\(mtimeMs)" }

    func start(yaml: String, baseDirectory: String, submitter: String, peer: Data, requestID: UInt64) {
        let cache = hashCache
        let finished = finished
        let wake = wake
        let stateDirectory = stateDirectory
        queue.async {
            let result: Result<PreparedJob, Failure>
            do {
                let known: (String, UInt64, Int64) -> String? = { path, size, mtime in
                    cache.value[SubmissionQueue.cacheKey(path, size, mtime)]
                }
                let kind = TrainingSpecParser.kind(ofYAML: yaml)
                if kind == "synthesize" {
                    let spec = try SynthesisSpecParser().parse(yaml: yaml, source: "job", baseDirectory: baseDirectory)
                    result = .success(.synthesis(try PreparedSynthesis.prepare(spec)))
                } else if let kind, kind == "pretrain" || kind == "finetune" {
                    let spec = try TrainingSpecParser().parse(yaml: yaml, source: "job", baseDirectory: baseDirectory)
                    result = .success(.training(try PreparedTraining.prepare(spec, stateDirectory: stateDirectory, knownHash: known)))
                } else {
                    let spec = try MergeSearchSpecParser(.clusterJob).parse(yaml: yaml, source: "job", baseDirectory: baseDirectory)
                    result = .success(.mergeSearch(try PreparedMergeSearch.prepare(spec, knownHash: known)))
                }
            } catch {
                result = .failure(Failure(description: "\(error)"))
            }
            finished.withLock {
                $0.append(Finished(peer: peer, requestID: requestID, yaml: yaml, submitter: submitter, result: result))
            }
            wake.wake()
        }
    }

    func takeFinished() -> [Finished] {
        finished.withLock { list in
            defer { list = [] }
            return list
        }
    }
}

/// Writes the best arm of a finished job as a model directory, off the event loop.
final class ExportQueue: Sendable {
    struct Finished: Sendable {
        var jobID: String
        var result: Result<String, SubmissionQueue.Failure>
    }

    private let finished = Guarded<[Finished]>([])
    private let queue = DispatchQueue(label: "uniguard.coordinator.export")
    private let wake: WakePipe

    init(wake: WakePipe) { self.wake = wake }

    /// Runs `work` (e.g. a training job's model export to `output`) off the loop.
    func start(jobID: String, output: String, work: @escaping @Sendable () throws -> Void) {
        let finished = finished
        let wake = wake
        queue.async {
            let result: Result<String, SubmissionQueue.Failure>
            do {
                try work()
                result = .success(output)
            } catch {
                result = .failure(SubmissionQueue.Failure(description: "\(error)"))
            }
            finished.withLock { $0.append(Finished(jobID: jobID, result: result)) }
            wake.wake()
        }
    }

    /// Writes `run`'s best arm exactly as `uniguard merge-search` exports it (same merge, same metadata).
    func start(jobID: String, run: MergeSearchRun, output: String) {
        let finished = finished
        let wake = wake
        queue.async {
            let result: Result<String, SubmissionQueue.Failure>
            do {
                try run.exportBest(to: output)
                result = .success(output)
            } catch {
                result = .failure(SubmissionQueue.Failure(description: "\(error)"))
            }
            finished.withLock { $0.append(Finished(jobID: jobID, result: result)) }
            wake.wake()
        }
    }

    func takeFinished() -> [Finished] {
        finished.withLock { list in
            defer { list = [] }
            return list
        }
    }
}
