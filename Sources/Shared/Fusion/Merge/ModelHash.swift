import EncoderModel
import Foundation
import Runtime

/// SHA-256 of input model files for merge provenance.
enum ModelHash {
    static func sha256(ofFile path: String) throws -> String {
        do { return try SHA256.hexDigest(ofFile: path) } catch let error as HashingError {
            throw MergeError.badModel(path: path, reason: "cannot hash: \(error.reason)")
        }
    }

    /// SHA-256 of a mapped weights file, straight from the mapping the merge reads its tensors from: each page
    /// is faulted in once for both, and nothing is copied through a read buffer (`sha256(ofFile:)` did both).
    static func sha256(of weights: SafetensorsFile) -> String {
        var hasher = SHA256()
        let bytes = weights.fileBytes
        // Fed in 4 MiB slices so the pages the hash has read are also the ones the merge reads next.
        var at = 0
        while at < bytes.count {
            let n = min(4 << 20, bytes.count - at)
            hasher.update(UnsafeBufferPointer(start: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self) + at, count: n))
            at += n
        }
        return SHA256.hex(hasher.finalize())
    }

    /// Hashes the input models' weights on a background queue while the caller merges (two cores: the hash is
    /// then nearly free). Results are keyed by weights path.
    final class Background: @unchecked Sendable {
        private let lock = NSLock()
        private var results: [String: Result<String, Error>] = [:]
        private let group = DispatchGroup()

        init(models: [MergeSourceModel]) {
            for m in models {
                DispatchQueue.global(qos: .utility).async(group: group) { [self] in
                    let r = Result<String, Error>.success(ModelHash.sha256(of: m.weights))
                    lock.lock(); results[m.weightsPath] = r; lock.unlock()
                }
            }
        }

        /// Waits for every hash; rethrows the first failure.
        func wait() throws -> [String: String] {
            group.wait()
            lock.lock(); defer { lock.unlock() }
            return try results.mapValues { try $0.get() }
        }
    }
}
