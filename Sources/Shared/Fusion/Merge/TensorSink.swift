import EncoderModel
import Foundation

/// Where merged tensors go, one at a time in declared order: a safetensors file or memory (for evaluating an arm
/// without touching disk).
public protocol TensorSink: AnyObject {
    func begin(specs: [SafetensorsWriter.Spec], metadata: [String: String]) throws
    func write(_ name: String, _ values: UnsafeBufferPointer<Float>) throws
    func write(_ name: String, int64s: [Int64]) throws
    func finish() throws
    /// Drops partial output after an error.
    func abandon()
}

/// Streams into a safetensors file (atomic rename on finish).
public final class SafetensorsFileSink: TensorSink {
    public let path: String
    private var writer: SafetensorsWriter?

    public init(path: String) { self.path = path }

    public func begin(specs: [SafetensorsWriter.Spec], metadata: [String: String]) throws {
        writer = try SafetensorsWriter(path: path, specs: specs, metadata: metadata)
    }
    public func write(_ name: String, _ values: UnsafeBufferPointer<Float>) throws { try writer?.write(name, values) }
    public func write(_ name: String, int64s: [Int64]) throws { try writer?.write(name, int64s: int64s) }
    public func finish() throws { try writer?.finish(); writer = nil }
    public func abandon() { writer?.abandon(); writer = nil }
}

/// Keeps merged tensors in memory (owned copies), in file order.
public final class InMemoryTensorSink: TensorSink {
    public private(set) var names: [String] = []
    public private(set) var tensors: [String: Tensor] = [:]
    public private(set) var integers: [String: [Int64]] = [:]
    private var shapes: [String: [Int]] = [:]

    public init() {}

    public func begin(specs: [SafetensorsWriter.Spec], metadata: [String: String]) throws {
        names = specs.map(\.name)
        shapes = Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0.shape) })
    }
    public func write(_ name: String, _ values: UnsafeBufferPointer<Float>) throws {
        let t = Tensor(zeros: shapes[name] ?? [values.count])
        if let base = values.baseAddress { t.data.update(from: base, count: values.count) }
        tensors[name] = t
    }
    public func write(_ name: String, int64s: [Int64]) throws { integers[name] = int64s }
    public func finish() throws {}
    public func abandon() { tensors = [:]; integers = [:] }
}
