import Foundation
import GuardData
import Guards

/// One policy the server answers for: a category of `/v1/moderations`, scored by one loaded model.
public struct ServedPolicy: Sendable {
    /// The category name clients see (the policy id).
    public let id: String
    /// Index into `GuardCatalog.models`.
    public let modelIndex: Int
    /// Instruction text for instruction-format models; nil means the model's own (prompt-format or stored instruction).
    public let instruction: String?
    /// Score at or above which the input is flagged.
    public let threshold: Float
}

/// A policy given on the command line for instruction-format models (a MultiTaskGuard or merged model).
public struct ExtraPolicy: Sendable {
    public let id: String
    public let instruction: String
    public init(id: String, instruction: String) { self.id = id; self.instruction = instruction }
}

/// The loaded guards and the policies they serve; built once at start, read-only afterwards.
public struct GuardCatalog: @unchecked Sendable {
    /// A model directory as served: its name (the directory's last component) and the model.
    public struct Model {
        public let name: String
        public let directory: URL
        /// Touched only by the inference thread (a GuardModel holds activation buffers).
        public let guardModel: GuardModel
        public var policyIDs: [String]
    }

    public private(set) var models: [Model] = []
    public private(set) var policies: [ServedPolicy] = []

    /// Policy index by id.
    public func policyIndex(_ id: String) -> Int? { policies.firstIndex { $0.id == id } }
    /// Model index by name.
    public func modelIndex(_ name: String) -> Int? { models.firstIndex { $0.name == name } }

    /// Loads every directory; `extra` policies are served by the instruction-format models (there must be exactly
    /// one such model when any are given, or which model answers a policy would be ambiguous).
    public static func load(directories: [URL], extra: [ExtraPolicy] = []) throws -> GuardCatalog {
        guard !directories.isEmpty else { throw CatalogError("--model: give at least one model directory") }
        let loaded = try directories.map { dir -> (URL, GuardModel) in (dir, try GuardModel.load(dir)) }
        return try GuardCatalog(models: loaded, extra: extra)
    }

    /// A catalog over models already in memory (the tests build theirs this way).
    public init(models loaded: [(URL, GuardModel)], extra: [ExtraPolicy] = []) throws {
        let instructionModels = loaded.indices.filter { loaded[$0].1.metadata.inputFormat == .instruction }
        if !extra.isEmpty && instructionModels.count != 1 {
            throw CatalogError("--policy: policies are served through an instruction-format model, and \(instructionModels.count) are loaded; serve exactly one MultiTaskGuard or merged model with --policy")
        }
        for (i, (dir, model)) in loaded.enumerated() {
            let name = dir.standardizedFileURL.lastPathComponent
            if let other = models.first(where: { $0.name == name }) {
                throw CatalogError("--model: \(dir.path) and \(other.directory.path) share the name '\(name)'; clients select models by directory name, so rename one")
            }
            var ids: [String] = []
            if !model.requiresPolicy { ids.append(model.metadata.policy) }
            if instructionModels.first == i { ids += extra.map(\.id) }
            if ids.isEmpty {
                throw CatalogError("--model \(dir.path): a MultiTaskGuard with no stored policy; name the policies it should serve with --policy ID|FILE.yaml")
            }
            for id in ids {
                if let clash = policies.first(where: { $0.id == id }) {
                    throw CatalogError("policy '\(id)' is served by both \(models[clash.modelIndex].directory.path) and \(dir.path); load one model per policy")
                }
                let instruction = extra.first { $0.id == id && instructionModels.first == i }?.instruction
                policies.append(ServedPolicy(id: id, modelIndex: i, instruction: instruction, threshold: try model.threshold(policyText: instruction)))
            }
            models.append(Model(name: name, directory: dir, guardModel: model, policyIDs: ids))
        }
    }
}

/// A catalog that cannot be served, with what to change.
public struct CatalogError: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}
