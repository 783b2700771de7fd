import Runtime
/// Training-mode dropout for one forward pass: rates and the seed its masks derive from. A workspace
/// without one runs in eval mode. Masks depend only on (seed, site, layer, global row, position), so a
/// batch split over workers, or padded to another length, draws exactly the masks one worker would.
public struct DropoutSpec: Sendable, Equatable {
    /// Hidden-state dropout (embeddings, attention output dense, FFN output dense).
    public var hidden: Float
    /// Dropout on the attention probabilities.
    public var attention: Float
    public var seed: UInt64
    /// Global index of the batch's first sequence (its position in the global batch of this step).
    public var firstRow: Int

    public init(hidden: Float, attention: Float, seed: UInt64, firstRow: Int = 0) {
        precondition((0..<1).contains(hidden) && (0..<1).contains(attention), "dropout rates must be in [0, 1)")
        self.hidden = hidden; self.attention = attention; self.seed = seed; self.firstRow = firstRow
    }

    /// The config's `hidden_dropout_prob` / `attention_probs_dropout_prob`; derive `seed` from the run seed
    /// and the step (e.g. `RandomSource.key(runSeed, step)`) so every step draws fresh masks.
    public init(config: BertConfig, seed: UInt64, firstRow: Int = 0) {
        self.init(hidden: config.hiddenDropout, attention: config.attentionDropout, seed: seed, firstRow: firstRow)
    }

    public var isActive: Bool { hidden > 0 || attention > 0 }
}

/// Where dropout is applied; part of each mask's stream key.
public enum DropoutSite: UInt64, Sendable {
    case embeddings = 1, attentionProbs, attentionOutput, ffnOutput, head
}

/// A reusable buffer of keep flags (1 kept, 0 dropped) for one dropout site; empty until first used.
public final class DropoutMask: @unchecked Sendable {
    public private(set) var data: UnsafeMutablePointer<UInt8>
    public private(set) var capacity = 0

    public init() { data = .allocate(capacity: 1) }
    deinit { data.deallocate() }

    /// Grows to hold at least `n` flags (contents are rewritten by every forward that uses the mask).
    public func reserve(_ n: Int) {
        guard n > capacity else { return }
        data.deallocate()
        data = .allocate(capacity: n)
        capacity = n
    }
}

/// Mask drawing and application; x ∘ mask / (1 - p) forward, the same product backward.
public enum DropoutKernels {
    typealias V = FastMath.V

    /// The 24-bit threshold below which a uniform draw drops the element.
    @inline(__always)
    static func threshold(_ p: Float) -> UInt64 { UInt64((Double(p) * 16_777_216).rounded()) }

    /// Draws `count` keep flags of stream `key` starting at counter `start` (even); two draws per hash.
    @inline(__always)
    static func draw(_ mask: UnsafeMutablePointer<UInt8>, count: Int, key: UInt64, start: UInt64, threshold: UInt64) {
        var i = 0
        var c = start >> 1
        while i + 1 < count {
            let h = RandomSource.at(key, c)
            mask[i] = (h >> 40) >= threshold ? 1 : 0
            mask[i + 1] = ((h >> 16) & 0xFF_FFFF) >= threshold ? 1 : 0
            i += 2; c += 1
        }
        if i < count { mask[i] = (RandomSource.at(key, c) >> 40) >= threshold ? 1 : 0 }
    }

    /// x[i] = mask[i] ? x[i] * scale : 0 (forward application and backward gradient alike).
    @inline(__always)
    public static func apply(_ x: UnsafeMutablePointer<Float>, mask: UnsafePointer<UInt8>, scale: Float, count n: Int) {
        // In place is the out-of-place pass with out == x: each element is read before it is written, at its own index.
        apply(UnsafePointer(x), mask: mask, scale: scale, count: n, into: x)
    }

    /// out = x ∘ mask * scale (leaves x intact: attention keeps the undropped probabilities for backward).
    @inline(__always)
    static func apply(_ x: UnsafePointer<Float>, mask: UnsafePointer<UInt8>, scale: Float, count n: Int, into out: UnsafeMutablePointer<Float>) {
        var i = 0
        let sv = V(repeating: scale)
        while i + 16 <= n {
            let m = UnsafeRawPointer(mask + i).loadUnaligned(as: SIMD16<UInt8>.self)
            FastMath.store(FastMath.load(x + i) * V(m) * sv, out + i)
            i += 16
        }
        while i < n { out[i] = mask[i] != 0 ? x[i] * scale : 0; i += 1 }
    }

    /// Hidden dropout over [rows * seqLen, width]: draws each sequence's flags from its own stream, applies them.
    static func hidden(_ x: UnsafeMutablePointer<Float>, mask: DropoutMask, rows b: Int, seqLen t: Int, width h: Int,
                       rate: Float, spec: DropoutSpec, site: DropoutSite, layer: Int) {
        mask.reserve(b * t * h)
        let m = mask.data, thr = threshold(rate), scale = 1 / (1 - rate), per = t * h
        let siteKey = site.rawValue | UInt64(layer) << 8
        Parallel.forRanges(b) { range in
            for r in range {
                let key = RandomSource.key(spec.seed, siteKey, UInt64(spec.firstRow + r))
                draw(m + r * per, count: per, key: key, start: 0, threshold: thr)
                apply(x + r * per, mask: m + r * per, scale: scale, count: per)
            }
        }
    }

    /// The stream of one (sequence, head) attention block; query row i uses counters from i << 20, so flags
    /// do not depend on the padded length.
    @inline(__always)
    static func attentionKey(_ spec: DropoutSpec, layer: Int, row: Int, head: Int) -> UInt64 {
        RandomSource.key(spec.seed, DropoutSite.attentionProbs.rawValue | UInt64(layer) << 8, UInt64(spec.firstRow + row), UInt64(head))
    }

    /// Draws one (sequence, head) block's flags (as `drawAttention`) and writes out = probs ∘ mask · scale in the
    /// same pass, so the block is read once; `probs` stays intact (backward needs it).
    @inline(__always)
    static func drawApplyAttention(_ probs: UnsafePointer<Float>, mask m: UnsafeMutablePointer<UInt8>, into out: UnsafeMutablePointer<Float>,
                                   rows t: Int, valid lk: Int, stride: Int, key: UInt64, threshold thr: UInt64, scale: Float) {
        for i in 0..<t {
            let mr = m + i * stride, pr = probs + i * stride, orow = out + i * stride
            var j = 0
            var c = UInt64(i) << 19
            while j + 1 < lk {
                let h = RandomSource.at(key, c)
                let k0 = (h >> 40) >= thr, k1 = ((h >> 16) & 0xFF_FFFF) >= thr
                mr[j] = k0 ? 1 : 0; mr[j + 1] = k1 ? 1 : 0
                orow[j] = k0 ? pr[j] * scale : 0; orow[j + 1] = k1 ? pr[j + 1] * scale : 0
                j += 2; c += 1
            }
            if j < lk {
                let k0 = (RandomSource.at(key, c) >> 40) >= thr
                mr[j] = k0 ? 1 : 0; orow[j] = k0 ? pr[j] * scale : 0
            }
            if lk < stride {
                (mr + lk).update(repeating: 0, count: stride - lk)
                (orow + lk).update(repeating: 0, count: stride - lk)
            }
        }
    }

    /// Draws one (sequence, head) block's flags for the first `valid` keys of each of `rows` query rows.
    @inline(__always)
    static func drawAttention(_ m: UnsafeMutablePointer<UInt8>, rows t: Int, valid lk: Int, stride: Int, key: UInt64, threshold: UInt64) {
        for i in 0..<t {
            draw(m + i * stride, count: lk, key: key, start: UInt64(i) << 20, threshold: threshold)
            if lk < stride { (m + i * stride + lk).update(repeating: 0, count: stride - lk) }
        }
    }
}

extension EncoderWorkspace {
    /// Applies hidden dropout at `site` to [tokens, H] `x` in place when the pass is in training mode.
    func dropHidden(_ x: UnsafeMutablePointer<Float>, mask: DropoutMask, site: DropoutSite, layer: Int) {
        guard let spec = appliedDropout, spec.hidden > 0 else { return }
        DropoutKernels.hidden(x, mask: mask, rows: batch, seqLen: seqLen, width: config.hiddenSize,
                              rate: spec.hidden, spec: spec, site: site, layer: layer)
    }
}
