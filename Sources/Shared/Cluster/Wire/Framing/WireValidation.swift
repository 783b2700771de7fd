/// Protocol rules beyond protobuf well-formedness, checked on every decoded message.
enum WireValidation {
    static func validate(_ message: WireMessage) throws(WireError) {
        let raw = message.rawFrames
        switch message.envelope.payload {
        case nil:
            throw .missingPayload
        case .registerWorker(let r)?:
            try require(!r.workerID.isEmpty, "register_worker.worker_id is empty")
            try require(r.slots > 0, "register_worker.slots must be at least 1")
            try noRawFrames(raw, "register_worker")
        case .taskAssignment(let t)?:
            // Raw frames may carry tensors for a task (e.g. a train step's initial state).
            try require(!t.taskID.isEmpty, "task_assignment.task_id is empty")
            try require(t.kind != nil, "task_assignment has no kind")
        case .taskResult(let r)?:
            // Raw frames may carry result tensors or synthetic samples.
            try require(!r.taskID.isEmpty, "task_result.task_id is empty")
            try require(r.outcome != nil, "task_result has no outcome")
        case .blobRequest(let b)?:
            try require(!b.contentHash.isEmpty, "blob_request.content_hash is empty")
            try require(b.length > 0, "blob_request.length is 0")
            try noRawFrames(raw, "blob_request")
        case .blobChunk(let c)?:
            try require(!c.contentHash.isEmpty, "blob_chunk.content_hash is empty")
            try require(raw.count == 1, "blob_chunk needs exactly one raw frame, got \(raw.count)")
            try require(UInt64(raw[0].count) == c.length,
                        "blob_chunk.length is \(c.length) but its frame has \(raw[0].count) bytes")
            let (end, overflow) = c.offset.addingReportingOverflow(c.length)
            try require(!overflow && end <= c.totalSize,
                        "blob_chunk range \(c.offset)+\(c.length) exceeds total_size \(c.totalSize)")
        case .submitJob(let s)?:
            try require(!s.yaml.isEmpty, "submit_job.yaml is empty")
            try noRawFrames(raw, "submit_job")
        case .cancelJob(let c)?:
            try require(!c.jobID.isEmpty, "cancel_job.job_id is empty")
            try noRawFrames(raw, "cancel_job")
        case .keyValueRequest(let r)?:
            try require(!r.taskID.isEmpty, "key_value_request.task_id is empty")
            try require(!r.key.isEmpty && r.key.utf8.count <= WireLimits.maxRendezvousKeyBytes,
                        "key_value_request.key must have 1...\(WireLimits.maxRendezvousKeyBytes) bytes")
            try require(r.value.count <= WireLimits.maxRendezvousValueBytes,
                        "key_value_request.value has \(r.value.count) bytes (at most \(WireLimits.maxRendezvousValueBytes))")
            try noRawFrames(raw, "key_value_request")
        case .trainProgress(let p)?:
            try require(!p.taskID.isEmpty, "train_progress.task_id is empty")
            try noRawFrames(raw, "train_progress")
        case .checkpointReady(let c)?:
            try require(!c.taskID.isEmpty, "checkpoint_ready.task_id is empty")
            try require(!c.files.isEmpty, "checkpoint_ready lists no files")
            try noRawFrames(raw, "checkpoint_ready")
        case .registerAck?, .heartbeat?, .keyValueReply?, .checkpointCommitted?, .submitReply?, .statusRequest?, .statusReply?, .cancelReply?,
             .disconnect?, .error?:
            try noRawFrames(raw, "this payload")
        }
    }

    private static func require(_ condition: Bool, _ reason: @autoclosure () -> String) throws(WireError) {
        if !condition { throw .invalidPayload(reason: reason()) }
    }

    private static func noRawFrames(_ raw: [some Collection], _ what: String) throws(WireError) {
        try require(raw.isEmpty, "\(what) carries no raw frames, got \(raw.count)")
    }
}
