import Cluster
import EncoderModel
import Foundation
import Runtime

/// Embeds a synthesize job's prompts with the coordinator's own encoder, off the event loop: one serial queue per
/// job, so results come back in the order they were asked for (the loop filters and commits batches in that order).
///
/// Why the coordinator and not the workers: a worker's vectors cannot be checked without embedding the text again,
/// and a lying worker's vectors in the window would make the coordinator drop other workers' honest samples. Here a
/// worker's only say is the text of its own batch, which is what is written anyway. The encoder is loaded on first use.
final class SynthesisEmbedding: Sendable {
    /// One request's rows: `count` L2-normalised embeddings of `dimension` floats, row-major, in the prompts' order.
    struct Rows: Sendable {
        var data: [Float]
        var count: Int
        var dimension: Int
    }

    struct Finished: Sendable {
        var ticket: Int
        var result: Result<Rows, SubmissionQueue.Failure>
    }

    let modelDirectory: String
    private let queue: DispatchQueue
    private let wake: WakePipe
    private let finished = Guarded<[Finished]>([])
    /// Touched on `queue` only (SentenceEmbedder reuses one workspace, so it is never run concurrently).
    private let encoder = Guarded<SentenceEmbedder?>(nil)
    /// Prompts are cut at this many tokens, as `uniguard synthesize` embeds them.
    static let maxLength = 128

    init(jobID: String, modelDirectory: String, wake: WakePipe) {
        self.modelDirectory = modelDirectory
        self.wake = wake
        queue = DispatchQueue(label: "uniguard.coordinator.embed.\(jobID)")
    }

    /// Embeds `prompts` off the loop; the rows arrive in `takeFinished` under `ticket`, after every earlier ticket.
    func embed(ticket: Int, prompts: [String]) {
        let (finished, wake, encoder, directory) = (finished, wake, encoder, modelDirectory)
        queue.async {
            let result: Result<Rows, SubmissionQueue.Failure>
            do {
                let model = try encoder.withLock { current -> SentenceEmbedder in
                    if let current { return current }
                    let loaded = try SentenceEmbedder(directory: URL(fileURLWithPath: directory), maxLength: Self.maxLength)
                    current = loaded
                    return loaded
                }
                if prompts.isEmpty {
                    result = .success(Rows(data: [], count: 0, dimension: model.dimension))
                } else {
                    let tensor = try model.embed(prompts)
                    let n = prompts.count * model.dimension
                    result = .success(Rows(data: Array(UnsafeBufferPointer(start: tensor.data, count: n)), count: prompts.count,
                                           dimension: model.dimension))
                }
            } catch {
                result = .failure(SubmissionQueue.Failure(description: "cannot embed with \(directory): \(error)"))
            }
            finished.withLock { $0.append(Finished(ticket: ticket, result: result)) }
            wake.wake()
        }
    }

    /// Finished requests in ticket order.
    func takeFinished() -> [Finished] {
        finished.withLock { list in
            defer { list = [] }
            return list.sorted { $0.ticket < $1.ticket }
        }
    }
}
