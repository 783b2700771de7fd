import EncoderModel
import Foundation

/// Computes a plan's merged tensors on background threads, ahead of the writer, which takes them in file order.
/// Tensors are independent, so the cores split them (one tensor, e.g. the word embeddings, can be half the work;
/// the other thread meanwhile does the rest). Results wait for the writer in owned buffers; how far the workers
/// may run ahead is bounded in elements, so memory stays within a couple of the largest tensors.
final class MergeWorkers: @unchecked Sendable {
    private let plan: MergePlan
    /// Indexes into `plan.recipes` of the merged tensors, in file order.
    private let order: [Int]
    private let lock = NSCondition()
    private var nextClaim = 0
    private var results: [Int: Result<UnsafeMutablePointer<Float>, any Error>] = [:]
    /// Elements computed or being computed but not yet taken by the writer.
    private var outstanding = 0
    private let budget: Int
    private var cancelled = false
    private let group = DispatchGroup()

    init(plan: MergePlan, threads: Int) {
        self.plan = plan
        order = plan.recipes.indices.filter { plan.recipes[$0].isFloat && plan.recipes[$0].merged }
        let largest = order.map { plan.recipes[$0].count }.max() ?? 1
        budget = 2 * largest
        let magnitude = plan.config.method.sparsification == .magnitude || plan.config.method.sparsification == .magnitudeOutliers
        for _ in 0..<max(1, min(threads, order.count)) {
            DispatchQueue.global(qos: .userInitiated).async(group: group) { [self] in
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: magnitude ? largest : 1)
                defer { scratch.deallocate() }
                work(scratch: scratch)
            }
        }
    }

    private func work(scratch: UnsafeMutablePointer<Float>) {
        while true {
            lock.lock()
            var slot = -1
            while !cancelled, nextClaim < order.count {
                let n = plan.recipes[order[nextClaim]].count
                // Always allow one tensor in flight, however large; otherwise respect the budget.
                if outstanding == 0 || outstanding + n <= budget {
                    slot = nextClaim; nextClaim += 1; outstanding += n
                    break
                }
                lock.wait()
            }
            lock.unlock()
            if slot < 0 { return }
            let r = plan.recipes[order[slot]]
            let out = UnsafeMutablePointer<Float>.allocate(capacity: max(r.count, 1))
            let result: Result<UnsafeMutablePointer<Float>, any Error>
            do {
                try plan.compute(r, out: out, scratch: scratch)
                result = .success(out)
            } catch {
                out.deallocate()
                result = .failure(error)
            }
            lock.lock()
            results[order[slot]] = result
            lock.broadcast()
            lock.unlock()
        }
    }

    /// Waits for recipe `index`'s tensor; the caller owns (and deallocates) the returned buffer.
    func take(_ index: Int) throws -> UnsafeMutablePointer<Float> {
        lock.lock()
        while results[index] == nil { lock.wait() }
        let r = results.removeValue(forKey: index)!
        outstanding -= plan.recipes[index].count
        lock.broadcast()
        lock.unlock()
        return try r.get()
    }

    /// Stops the workers after their current tensor and frees whatever they computed.
    func finish() {
        lock.lock(); cancelled = true; lock.broadcast(); lock.unlock()
        group.wait()
        lock.lock()
        for (_, r) in results { if case .success(let p) = r { p.deallocate() } }
        results = [:]
        lock.unlock()
    }
}
