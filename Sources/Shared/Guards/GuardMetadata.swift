import Foundation
import Runtime

/// `uniguard.json`: what a model directory needs at inference beyond HF's files, and how it was made.
public struct GuardMetadata: Codable, Sendable, Equatable {
    /// How a prompt becomes model input.
    public enum InputFormat: String, Codable, Sendable {
        /// The prompt alone (a TaskGuard knows its one policy).
        case prompt
        /// `Instruct: <policy text> [SEP] Query: <prompt>` (MultiTaskGuard; merges across policies).
        case instruction
    }

    /// How the encoder output becomes the classifier's input.
    public enum HeadKind: String, Codable, Sendable {
        /// Masked mean pooling + Linear(h, 2) (sentence-transformers style; the default).
        case mean
        /// [CLS] → pooler dense + tanh → Linear(h, 2): transformers' BertForSequenceClassification.
        case cls
    }

    /// Training settings, recorded for provenance and reuse.
    public struct Recipe: Codable, Sendable, Equatable {
        public var mode: String
        public var epochs: Int
        public var batch: Int
        public var lr: Double
        public var maxLength: Int
        public var seed: UInt64
        public var trainSamples: Int
        public var trainSHA256: String?
        public init(mode: String, epochs: Int, batch: Int, lr: Double, maxLength: Int, seed: UInt64, trainSamples: Int, trainSHA256: String?) {
            self.mode = mode; self.epochs = epochs; self.batch = batch; self.lr = lr; self.maxLength = maxLength
            self.seed = seed; self.trainSamples = trainSamples; self.trainSHA256 = trainSHA256
        }
    }

    /// How `threshold` was chosen on validation samples (`uniguard train --val`, `uniguard calibrate`).
    public struct Calibration: Codable, Sendable, Equatable {
        /// The FPR cap the threshold was chosen under, and whether it was reachable.
        public var targetFPR: Double
        public var metCap: Bool
        /// The validation file, its samples used and their policies (a MultiTaskGuard's seen policies).
        public var data: String?
        public var samples: Int
        public var policies: [String]
        /// Figures on those samples at the chosen threshold.
        public var precision: Double
        public var recall: Double
        public var f1: Double
        public var fpr: Double
        /// Set when the threshold is relative to the benign anchors (`GuardModel.threshold(policyText:)`): k in
        /// mean + k·sd of their scores under each instruction; the figures above are then of that rule.
        public var benignAnchorK: Double?

        enum CodingKeys: String, CodingKey {
            case data, samples, policies, precision, recall, f1, fpr
            case targetFPR = "target_fpr", metCap = "met_cap", benignAnchorK = "benign_anchor_k"
        }

        public init(_ c: ThresholdCalibration, data: String?, samples: Int, policies: [String]) {
            targetFPR = c.targetFPR; metCap = c.metCap; self.data = data; self.samples = samples; self.policies = policies
            precision = c.counts.precision; recall = c.counts.recall; f1 = c.counts.f1; fpr = c.fpr
        }
    }

    public var format = 1
    public var policy: String
    /// The policy text used after `Instruct:` (also kept for prompt-format models, for display and merging).
    public var instruction: String
    public var inputFormat: InputFormat
    public var head: HeadKind
    public var labels: [String] = ["safe", "unsafe"]
    /// Score (probability of unsafe) at or above which a prompt is labelled unsafe.
    public var threshold: Float = 0.5
    public var maxLength: Int
    public var baseModelSHA256: String?
    public var recipe: Recipe?
    public var validationF1: Double?
    /// Absent in files written before calibration was recorded, and when the threshold was never calibrated.
    public var calibration: Calibration?

    enum CodingKeys: String, CodingKey {
        case format, policy, instruction, labels, threshold, recipe, head, calibration
        case inputFormat = "input_format", maxLength = "max_length", baseModelSHA256 = "base_model_sha256"
        case validationF1 = "validation_f1"
    }

    public init(policy: String, instruction: String, inputFormat: InputFormat, head: HeadKind, maxLength: Int,
                baseModelSHA256: String? = nil, recipe: Recipe? = nil) {
        self.policy = policy; self.instruction = instruction; self.inputFormat = inputFormat; self.head = head
        self.maxLength = maxLength; self.baseModelSHA256 = baseModelSHA256; self.recipe = recipe
    }

    public static let fileName = "uniguard.json"

    /// Reads `uniguard.json` from a model directory, naming the file and field on problems.
    public static func load(directory: URL) throws -> GuardMetadata {
        let url = directory.appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ModelError.missingFile(path: url.path, hint: "not a UniGuard classifier directory (train one with `uniguard train`)")
        }
        do { return try JSONDecoder().decode(GuardMetadata.self, from: data) } catch let DecodingError.keyNotFound(k, _) {
            throw ModelError.badConfig(path: url.path, field: k.stringValue, reason: "missing")
        } catch let DecodingError.typeMismatch(_, ctx), let DecodingError.dataCorrupted(ctx) {
            throw ModelError.badConfig(path: url.path, field: ctx.codingPath.map(\.stringValue).joined(separator: "."), reason: ctx.debugDescription)
        } catch {
            throw ModelError.badConfig(path: url.path, field: "-", reason: "\(error)")
        }
    }

    /// uniguard.json as stored (empty when absent or unreadable), so a rewrite can keep the keys we do not model.
    public static func storedKeys(directory: URL) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent(fileName)))) as? [String: Any] ?? [:]
    }

    /// Writes `uniguard.json`, keeping keys other tools added (e.g. `merge` provenance) that we do not model.
    public func save(directory: URL, preserving existing: [String: Any] = [:]) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        var obj = (try JSONSerialization.jsonObject(with: try enc.encode(self))) as? [String: Any] ?? [:]
        for (k, v) in existing where obj[k] == nil { obj[k] = v }
        let data = try JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: directory.appendingPathComponent(Self.fileName), options: .atomic)
    }
}
