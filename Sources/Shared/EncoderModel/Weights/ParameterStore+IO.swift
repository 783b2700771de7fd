import Foundation

extension ParameterStore {
    /// Name prefixes under which checkpoints store our tensors: Hugging Face's encoder prefixes, and the one our
    /// mean-pooling classifier is saved under (`HeadNames.meanPoolingPrefix`).
    public static let encoderPrefixes = ["", "bert.", "roberta.", "model.", "mean_pooling."]

    /// The name `file` uses for our canonical `name`, trying each prefix, then RoBERTa's MLM head names.
    public static func resolve(_ name: String, in file: SafetensorsFile, prefixes: [String] = encoderPrefixes) -> String? {
        for p in prefixes where file.contains(p + name) { return p + name }
        if let alias = HeadNames.robertaMaskedLM[name], file.contains(alias) { return alias }
        return nil
    }

    /// Copies every slot from `file` (resolving prefixes), checking shapes; names in `optional` may be absent
    /// (their slots keep their current values, e.g. a freshly initialised head).
    public func load(from file: SafetensorsFile, optional: Set<String> = [], prefixes: [String] = encoderPrefixes) throws {
        for s in slots {
            guard let stored = Self.resolve(s.name, in: file, prefixes: prefixes) else {
                if optional.contains(s.name) { continue }
                throw SafetensorsError.missingTensor(path: file.path, tensor: s.name)
            }
            let t = try file.tensor(stored)
            guard t.shape == s.shape || (t.count == s.count && t.shape.filter { $0 != 1 } == s.shape.filter { $0 != 1 }) else {
                throw SafetensorsError.shapeMismatch(path: file.path, tensor: stored, expected: s.shape, found: t.shape)
            }
            (values.data + s.offset).update(from: t.data, count: s.count)
        }
    }

    /// Writes every slot (under `rename(name)`) to a safetensors file, atomically.
    public func save(to path: String, metadata: [String: String] = [:], rename: (String) -> String = { $0 }) throws {
        let w = try SafetensorsWriter(path: path, specs: slots.map { .init(name: rename($0.name), shape: $0.shape) }, metadata: metadata)
        do {
            for s in slots { try w.write(rename(s.name), UnsafeBufferPointer(start: values.data + s.offset, count: s.count)) }
            try w.finish()
        } catch {
            w.abandon()
            throw error
        }
    }
}
