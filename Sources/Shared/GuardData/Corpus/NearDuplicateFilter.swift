import EncoderModel
/// Near-duplicate filter over sentence embeddings, one mini-batch at a time (paper appendix): a prompt
/// is dropped when its cosine similarity to an earlier kept prompt of the same group (policy + label)
/// reaches the threshold, looking at earlier prompts of the batch and a bounded window of the group's
/// most recently kept embeddings. Memory is groups x window x dimension floats, whatever the corpus size.
public final class NearDuplicateFilter {
    /// Similarity at or above which a prompt counts as a duplicate.
    public let threshold: Float
    /// Kept embeddings remembered per group from earlier batches.
    public let window: Int
    /// Embedding width.
    public let dimension: Int
    private var rings: [Int: EmbeddingRing] = [:]

    public init(dimension: Int, threshold: Float, window: Int) {
        self.dimension = dimension
        self.threshold = threshold
        self.window = max(0, window)
    }

    /// Keep flags for `rows` L2-normalised embeddings (row-major [rows, dimension]) in input order;
    /// `groups[i]` is row i's group. Kept rows join their group's window.
    public func filter(_ embeddings: UnsafePointer<Float>, rows: Int, groups: [Int]) -> [Bool] {
        precondition(groups.count == rows, "one group per row")
        var keep = [Bool](repeating: true, count: rows)
        var members: [Int: [Int]] = [:]
        for (row, group) in groups.enumerated() { members[group, default: []].append(row) }
        for group in members.keys.sorted() {
            let indices = members[group]!
            let ring = rings[group] ?? EmbeddingRing(capacity: window, dimension: dimension)
            let flags = filterGroup(embeddings, indices: indices, ring: ring)
            for (i, row) in indices.enumerated() where !flags[i] { keep[row] = false }
            for (i, row) in indices.enumerated() where flags[i] { ring.append(embeddings + row * dimension) }
            rings[group] = ring
        }
        return keep
    }

    /// Keep flags for one group's rows: one GEMM against the batch's own rows and one against the window.
    private func filterGroup(_ embeddings: UnsafePointer<Float>, indices: [Int], ring: EmbeddingRing) -> [Bool] {
        let m = indices.count, d = dimension
        var rows = [Float](repeating: 0, count: m * d)
        rows.withUnsafeMutableBufferPointer { out in
            for (i, row) in indices.enumerated() { (out.baseAddress! + i * d).update(from: embeddings + row * d, count: d) }
        }
        var keep = [Bool](repeating: true, count: m)
        // Within the batch: S = X X^T; row i is a duplicate of an earlier *kept* row j < i.
        var within = [Float](repeating: 0, count: m * m)
        rows.withUnsafeBufferPointer { x in
            within.withUnsafeMutableBufferPointer { s in
                BLAS.gemm(transB: true, m: m, n: m, k: d, a: x.baseAddress!, lda: d, b: x.baseAddress!, ldb: d, c: s.baseAddress!, ldc: m)
            }
        }
        // Against the window: P = X R^T (R holds the ring's filled rows; order does not matter for a max).
        let n = ring.count
        var previous = [Float](repeating: 0, count: m * n)
        if n > 0 {
            rows.withUnsafeBufferPointer { x in
                previous.withUnsafeMutableBufferPointer { p in
                    ring.withRows { r in
                        BLAS.gemm(transB: true, m: m, n: n, k: d, a: x.baseAddress!, lda: d, b: r, ldb: d, c: p.baseAddress!, ldc: n)
                    }
                }
            }
        }
        for i in 0..<m {
            var duplicate = false
            for j in 0..<n where previous[i * n + j] >= threshold { duplicate = true; break }
            if !duplicate {
                for j in 0..<i where keep[j] && within[i * m + j] >= threshold { duplicate = true; break }
            }
            keep[i] = !duplicate
        }
        return keep
    }
}

/// A bounded circular buffer of embedding rows: grows to `capacity` rows, then overwrites the oldest.
final class EmbeddingRing {
    let capacity: Int
    let dimension: Int
    private var storage: [Float] = []
    private var next = 0

    init(capacity: Int, dimension: Int) {
        self.capacity = capacity
        self.dimension = dimension
    }

    /// Rows held (at most `capacity`).
    var count: Int { storage.count / max(dimension, 1) }

    func append(_ row: UnsafePointer<Float>) {
        guard capacity > 0 else { return }
        if count < capacity {
            storage.append(contentsOf: UnsafeBufferPointer(start: row, count: dimension))
        } else {
            storage.withUnsafeMutableBufferPointer { ($0.baseAddress! + next * dimension).update(from: row, count: dimension) }
        }
        next = (next + 1) % capacity
    }

    /// The held rows, contiguous, row-major [count, dimension].
    func withRows<R>(_ body: (UnsafePointer<Float>) -> R) -> R {
        storage.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
