import Cluster
import Collectives
import Foundation
import Logging
import Runtime

/// What training runs on slot threads share with the daemon thread: the bridge to the coordinator, the checkpoint
/// files rank 0 offered (served to the coordinator by hash), cancellations, the record caches and the one Gloo TCP
/// device of the process. Every member is thread-safe.
final class TrainingServices: Sendable {
    let bridge: CoordinatorBridge
    /// Address the Gloo TCP device binds to (`worker --data-addr`): gradient traffic is unauthenticated and
    /// unencrypted, so it stays on the network the operator names.
    let dataAddress: String
    /// Where runs write checkpoints: `<root>/<job>/gen-<G>/checkpoints/step-N`.
    let root: String
    let logger: Logger
    /// A pause after every training step (`worker --step-delay-ms`, hidden): lets tests and demos act on a run of a
    /// tiny model mid-way (kill a rank, add one) — a release build finishes such a run in well under a second.
    let stepDelaySeconds: Double
    private let offers = Guarded<[String: String]>([:])
    private let cancelled = Guarded<Set<String>>([])
    private let device = Guarded<TCPDevice?>(nil)
    private let recordCaches = Guarded<[String: RecordCache]>([:])
    private let cacheRoot: String

    init(bridge: CoordinatorBridge, dataAddress: String, cacheRoot: String, logger: Logger, stepDelaySeconds: Double = 0) throws {
        self.bridge = bridge
        self.stepDelaySeconds = stepDelaySeconds
        self.logger = logger
        self.dataAddress = dataAddress
        self.cacheRoot = cacheRoot
        root = "\(cacheRoot)/train"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    /// Sleeps `stepDelaySeconds` (nothing when 0).
    func pauseAfterStep() {
        if stepDelaySeconds > 0 { Thread.sleep(forTimeInterval: stepDelaySeconds) }
    }

    /// The process's Gloo device, made on first use (one per process: Gloo runs one event loop per device).
    func tcpDevice() throws -> TCPDevice {
        try device.withLock { held in
            if let held { return held }
            let made = try TCPDevice(hostname: dataAddress)
            held = made
            return made
        }
    }

    /// The record cache of one corpus (by content hash), shared by every run on it.
    func recordCache(corpusHash: String) throws -> RecordCache {
        try recordCaches.withLock { caches in
            if let cache = caches[corpusHash] { return cache }
            let cache = try RecordCache(directory: "\(cacheRoot)/records/\(corpusHash)")
            caches[corpusHash] = cache
            return cache
        }
    }

    /// The output directory of a run (one per job and generation, so generations never overwrite each other).
    func runDirectory(jobID: String, generation: UInt64) -> URL {
        URL(fileURLWithPath: "\(root)/\(Self.safeName(jobID))/gen-\(generation)")
    }

    static func safeName(_ id: String) -> String {
        String(id.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    }

    // MARK: Cancellation

    func cancel(_ taskID: String) { cancelled.withLock { _ = $0.insert(taskID) } }
    func isCancelled(_ taskID: String) -> Bool { cancelled.withLock { $0.contains(taskID) } }
    func forget(_ taskID: String) { cancelled.withLock { _ = $0.remove(taskID) } }

    // MARK: Checkpoint files rank 0 offered

    /// Makes a checkpoint's files servable by hash; returns them as the wire lists them.
    func offer(directory: URL) throws -> [Uniguard_V1_ModelFile] {
        var files: [Uniguard_V1_ModelFile] = []
        var paths: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() where !name.hasPrefix(".") {
            // Tokenizer files may be symlinks into the blob cache (copied from a model directory rebuilt from
            // blobs): offer what they point to.
            let path = directory.appendingPathComponent(name).resolvingSymlinksInPath().path
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            guard attributes[.type] as? FileAttributeType == .typeRegular else { continue }
            var file = Uniguard_V1_ModelFile()
            file.name = name
            file.contentHash = try SHA256.hexDigest(ofFile: path)
            file.sizeBytes = (attributes[.size] as? NSNumber)?.uint64Value ?? 0
            files.append(file)
            paths[file.contentHash] = path
        }
        offers.withLock { $0.merge(paths) { _, new in new } }
        return files
    }

    /// The file offered under `hash`, if it still exists.
    func offeredPath(_ hash: String) -> String? {
        guard let path = offers.withLock({ $0[hash] }), FileManager.default.fileExists(atPath: path) else { return nil }
        return path
    }

    /// The coordinator committed `step` of `jobID`: local checkpoints of that job older than it are deleted (the
    /// committed one stays until a later commit, in case the coordinator asks for its files again).
    func committed(jobID: String, step: UInt64) -> Int {
        let fm = FileManager.default
        let jobDir = "\(root)/\(Self.safeName(jobID))"
        var removed: [String] = []
        for generation in (try? fm.contentsOfDirectory(atPath: jobDir)) ?? [] {
            let checkpoints = "\(jobDir)/\(generation)/checkpoints"
            for name in (try? fm.contentsOfDirectory(atPath: checkpoints)) ?? [] {
                guard name.hasPrefix("step-"), let s = UInt64(name.dropFirst(5)), s < step else { continue }
                let dir = "\(checkpoints)/\(name)"
                if (try? fm.removeItem(atPath: dir)) != nil { removed.append(dir + "/") }
            }
        }
        if !removed.isEmpty { offers.withLock { $0 = $0.filter { entry in !removed.contains { entry.value.hasPrefix($0) } } } }
        return removed.count
    }
}
