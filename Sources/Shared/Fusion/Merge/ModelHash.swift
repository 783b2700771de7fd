import Foundation
import Runtime

/// SHA-256 of input model files for merge provenance.
enum ModelHash {
    static func sha256(ofFile path: String) throws -> String {
        do { return try SHA256.hexDigest(ofFile: path) } catch let error as HashingError {
            throw MergeError.badModel(path: path, reason: "cannot hash: \(error.reason)")
        }
    }

    /// Hashes files on a background queue while the caller merges (two cores: the hash is then nearly free).
    final class Background: @unchecked Sendable {
        private let lock = NSLock()
        private var results: [String: Result<String, Error>] = [:]
        private let group = DispatchGroup()

        init(paths: [String]) {
            for p in paths {
                DispatchQueue.global(qos: .utility).async(group: group) { [self] in
                    let r = Result { try ModelHash.sha256(ofFile: p) }
                    lock.lock(); results[p] = r; lock.unlock()
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
