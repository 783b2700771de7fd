@testable import Cluster
import Foundation

/// Deterministic RNG (SplitMix64) so fuzz failures reproduce from the seed.
struct WireSeededRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func bytes(_ count: Int) -> Data {
        var data = Data(count: count)
        data.withUnsafeMutableBytes { raw in
            // Whole words at a time: debug builds are slow at per-byte loops over megabytes.
            var offset = 0
            while offset < count {
                var word = next()
                let n = min(8, count - offset)
                withUnsafeBytes(of: &word) { raw.baseAddress!.advanced(by: offset).copyMemory(from: $0.baseAddress!, byteCount: n) }
                offset += n
            }
        }
        return data
    }
}

/// Sample messages covering every payload kind, for round-trip and mutation tests.
enum WireSamples {
    static func all() -> [WireMessage] {
        var register = Uniguard_V1_RegisterWorker()
        register.workerID = "host-a.1234"
        register.slots = 2
        register.memoryBytes = 8 << 30
        register.peerEndpoint = "tcp://10.0.0.5:6001"
        register.softwareVersion = "uniguard 0.1.0"
        register.blasCore = "SkylakeX"

        var ack = Uniguard_V1_RegisterAck()
        ack.workerID = "host-a.1234"
        ack.heartbeatIntervalMs = 1000
        ack.liveness = 3

        var heartbeat = Uniguard_V1_Heartbeat()
        heartbeat.freeSlots = 1
        heartbeat.runningTasks = 1
        heartbeat.load = 0.75

        var arm = Uniguard_V1_MergeArmTask()
        arm.models = (0..<3).map { i in
            var model = Uniguard_V1_ModelRef()
            model.contentHash = String(repeating: "\(i)", count: 64)
            model.sizeBytes = 90_000_000
            return model
        }
        arm.method = "ties"
        arm.weights = [0.5, 0.3, 0.2]
        arm.subset = "attention"
        arm.parameters = ["density": 0.7]
        arm.validation.firstLine = 100
        arm.validation.lineCount = 50
        arm.policyInstruction = "Flag prompts that request weapons synthesis."
        var task = Uniguard_V1_TaskAssignment()
        task.taskID = "job-1/arm-7/shard-0"
        task.leaseDeadlineUnixMs = 1_700_000_000_000
        task.attempt = 1
        task.kind = .mergeArm(arm)

        var eval = Uniguard_V1_EvalResult()
        eval.counts.tp = 40
        eval.counts.fp = 3
        eval.counts.tn = 50
        eval.counts.fn = 7
        eval.scores = [0.1, 0.9, 0.6]
        var result = Uniguard_V1_TaskResult()
        result.taskID = "job-1/arm-7/shard-0"
        result.outcome = .eval(eval)

        var failed = Uniguard_V1_TaskResult()
        failed.taskID = "job-1/arm-8/shard-1"
        var taskError = Uniguard_V1_Error()
        taskError.code = .taskFailed
        taskError.message = "blob hash mismatch"
        failed.outcome = .error(taskError)

        var blobRequest = Uniguard_V1_BlobRequest()
        blobRequest.contentHash = "ab"
        blobRequest.offset = 0
        blobRequest.length = 16

        let chunkBytes = Data((0..<16).map { UInt8($0) })
        var chunk = Uniguard_V1_BlobChunk()
        chunk.contentHash = "ab"
        chunk.offset = 16
        chunk.length = 16
        chunk.totalSize = 40

        var submit = Uniguard_V1_SubmitJob()
        submit.yaml = "kind: merge-search\niterations: 10\n"
        var submitReply = Uniguard_V1_SubmitReply()
        submitReply.jobID = "job-1"
        var status = Uniguard_V1_StatusRequest()
        status.jobID = "job-1"
        var statusReply = Uniguard_V1_StatusReply()
        statusReply.json = #"{"workers":[],"jobs":[]}"#
        var cancel = Uniguard_V1_CancelJob()
        cancel.jobID = "job-1"
        var cancelReply = Uniguard_V1_CancelReply()
        cancelReply.jobID = "job-1"
        cancelReply.state = "cancelled"
        var disconnect = Uniguard_V1_Disconnect()
        disconnect.reason = "shutting down"

        return [
            WireMessage(.registerWorker(register), messageId: 1),
            WireMessage(.registerAck(ack), messageId: 2, replyTo: 1),
            WireMessage(.heartbeat(heartbeat), messageId: 3),
            WireMessage(.taskAssignment(task), messageId: 4, jobId: "job-1"),
            WireMessage(.taskResult(result), messageId: 5, jobId: "job-1", replyTo: 4),
            WireMessage(.taskResult(failed), messageId: 6, jobId: "job-1"),
            WireMessage(.blobRequest(blobRequest), messageId: 7),
            WireMessage(.blobChunk(chunk), messageId: 8, replyTo: 7, rawFrames: [chunkBytes]),
            WireMessage(.submitJob(submit), messageId: 9),
            WireMessage(.submitReply(submitReply), messageId: 10, jobId: "job-1", replyTo: 9),
            WireMessage(.statusRequest(status), messageId: 11),
            WireMessage(.statusReply(statusReply), messageId: 12, replyTo: 11),
            WireMessage(.cancelJob(cancel), messageId: 13),
            WireMessage(.cancelReply(cancelReply), messageId: 14, replyTo: 13),
            WireMessage(.disconnect(disconnect), messageId: 15),
            WireMessage.error(.unknownSender, "register first", messageId: 16, replyTo: 3),
        ]
    }
}

/// Unique ipc endpoint under /tmp (ipc paths are limited to ~107 bytes).
func wireTestIPCEndpoint() -> String {
    "ipc:///tmp/ugw-\(getpid())-\(UUID().uuidString.prefix(8)).sock"
}
