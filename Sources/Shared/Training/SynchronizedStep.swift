import EncoderModel

/// The collective part of one data-parallel optimizer step, the same for pretraining and fine-tuning:
/// every rank has added its rows' gradients (already scaled so their sum over ranks is the global-batch
/// gradient) into its buffer; the ranks agree on the step's statistics, sum the gradients, clip on the global
/// norm and apply the same AdamW update, so parameters stay bitwise identical (the ring hands every rank the
/// same reduced bytes). With one rank nothing is exchanged and the step is exactly the single-process one.
struct SynchronizedStep {
    let reducer: any GradientReducer
    /// Contiguous runs of the gradient buffer that can be non-zero (a frozen encoder's are never sent).
    let ranges: [Range<Int>]

    init(reducer: any GradientReducer, optimizer: AdamW) {
        self.reducer = reducer
        var runs: [Range<Int>] = []
        for s in optimizer.segments {
            if let last = runs.last, last.upperBound == s.offset {
                runs[runs.count - 1] = last.lowerBound..<(s.offset + s.count)
            } else {
                runs.append(s.offset..<(s.offset + s.count))
            }
        }
        ranges = runs
    }

    var distributed: Bool { reducer.worldSize > 1 }

    /// Whether any rank asks to stop before the next step (one tiny reduce, so all ranks stop at the same boundary).
    func anyRank(_ vote: Bool) throws -> Bool {
        guard distributed else { return vote }
        var v: [Float] = [vote ? 1 : 0]
        try reducer.sum(&v)
        return v[0] > 0
    }

    /// Sums small per-step statistics (loss shares, counts, a non-finite vote) over the ranks.
    func agree(_ stats: inout [Float]) throws {
        if distributed { try reducer.sum(&stats) }
    }

    /// Sums the gradients, clips them on the global norm and steps AdamW. False (nothing applied) when the norm
    /// is not finite: every rank sees the same reduced gradients, so every rank decides alike.
    func apply(_ grads: Tensor, optimizer: AdamW, maxGradNorm: Float, lr: Float) throws -> Bool {
        if distributed {
            for r in ranges { try reducer.sum(UnsafeMutableBufferPointer(start: grads.data + r.lowerBound, count: r.count)) }
        }
        let norm = GradClip.clip(grads, maxNorm: maxGradNorm)
        guard norm.isFinite else { return false }
        optimizer.step(grads: grads, lr: lr)
        return true
    }
}
