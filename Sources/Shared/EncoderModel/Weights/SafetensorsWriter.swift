import Foundation
import Runtime

/// Streams tensors into a safetensors file in declared order, so a caller holds one tensor at a time.
/// The file appears atomically (temp file + rename) only after `finish()`: a crash never leaves a half checkpoint.
public final class SafetensorsWriter {
    /// What one tensor will be: declared up front because the header precedes the data.
    public struct Spec: Sendable {
        public let name: String
        public let shape: [Int]
        public let dtype: SafetensorsDType
        public init(name: String, shape: [Int], dtype: SafetensorsDType = .F32) {
            self.name = name; self.shape = shape; self.dtype = dtype
        }
    }

    public let path: String
    private let tmpPath: String
    private let specs: [Spec]
    private var next = 0
    private let handle: FileHandle
    private var writeback = EarlyWriteback()

    public init(path: String, specs: [Spec], metadata: [String: String] = [:]) throws {
        guard Set(specs.map(\.name)).count == specs.count else {
            throw SafetensorsError.badHeader(path: path, reason: "duplicate tensor names")
        }
        guard specs.allSatisfy({ $0.dtype == .F32 || $0.dtype == .I64 }) else {
            throw SafetensorsError.badHeader(path: path, reason: "the writer stores F32 and I64 tensors only")
        }
        self.path = path
        self.specs = specs
        // Named and registered so an interrupt, or failing that the next write here, removes it (`TemporaryPaths`).
        TemporaryPaths.sweepStale(beside: path)
        tmpPath = TemporaryPaths.path(for: path)
        TemporaryPaths.register(tmpPath)
        var header = "{"
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(Self.jsonString($0)):\(Self.jsonString(metadata[$0]!))" }
            header += "\"__metadata__\":{\(pairs.joined(separator: ","))}"
        }
        var offset = 0
        for (i, s) in specs.enumerated() {
            let bytes = s.shape.reduce(1, *) * s.dtype.byteSize
            if i > 0 || !metadata.isEmpty { header += "," }
            header += "\(Self.jsonString(s.name)):{\"dtype\":\"\(s.dtype.rawValue)\",\"shape\":[\(s.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + bytes)]}"
            offset += bytes
        }
        header += "}"
        // Pad so the data section starts 8-byte aligned: readers can then view F32/I64 data in place.
        while (8 + header.utf8.count) % 8 != 0 { header += " " }
        FileManager.default.createFile(atPath: tmpPath, contents: nil)
        guard let h = FileHandle(forWritingAtPath: tmpPath) else {
            TemporaryPaths.unregister(tmpPath)
            throw SafetensorsError.unreadable(path: path, reason: "cannot create \(tmpPath)")
        }
        handle = h
        var len = UInt64(header.utf8.count).littleEndian
        try handle.write(contentsOf: Data(bytes: &len, count: 8))
        try handle.write(contentsOf: Data(header.utf8))
        writeback.wrote(8 + header.utf8.count, fd: h.fileDescriptor)
    }

    static func jsonString(_ s: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])
        let text = String(decoding: data, as: UTF8.self)
        return String(text.dropFirst().dropLast())
    }

    private func expect(_ name: String, count: Int, dtype: SafetensorsDType) throws {
        guard next < specs.count, specs[next].name == name else {
            throw SafetensorsError.badTensor(path: path, tensor: name,
                reason: "written out of order (expected '\(next < specs.count ? specs[next].name : "<end>")')")
        }
        let s = specs[next]
        guard s.dtype == dtype, s.shape.reduce(1, *) == count else {
            throw SafetensorsError.badTensor(path: path, tensor: name, reason: "declared \(s.dtype.rawValue) \(s.shape), given \(dtype.rawValue) x \(count)")
        }
        next += 1
    }

    public func write(_ name: String, _ values: UnsafeBufferPointer<Float>) throws {
        try expect(name, count: values.count, dtype: .F32)
        // Straight from the caller's memory (often a mapped input): `Data(buffer:)` would copy every tensor first.
        try handle.write(contentsOf: UnsafeRawBufferPointer(values))
        writeback.wrote(values.count * 4, fd: handle.fileDescriptor)
    }

    public func write(_ name: String, _ tensor: Tensor) throws {
        try write(name, UnsafeBufferPointer(tensor.buffer))
    }

    public func write(_ name: String, int64s: [Int64]) throws {
        try expect(name, count: int64s.count, dtype: .I64)
        try int64s.withUnsafeBufferPointer { try handle.write(contentsOf: Data(buffer: $0)) }
        writeback.wrote(int64s.count * 8, fd: handle.fileDescriptor)
    }

    /// Flushes, syncs and renames the file into place.
    public func finish() throws {
        guard next == specs.count else {
            throw SafetensorsError.badTensor(path: path, tensor: specs[next].name, reason: "never written")
        }
        try handle.synchronize()
        try handle.close()
        defer { TemporaryPaths.unregister(tmpPath) }
        guard rename(tmpPath, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(tmpPath)
            throw SafetensorsError.unreadable(path: path, reason: "rename failed: \(reason)")
        }
    }

    /// Drops a half-written file.
    public func abandon() {
        try? handle.close()
        unlink(tmpPath)
        TemporaryPaths.unregister(tmpPath)
    }

    deinit { if next < specs.count { abandon() } }

    /// Writes a whole set of F32 tensors at once.
    public static func write(path: String, tensors: [(String, Tensor)], metadata: [String: String] = [:]) throws {
        let w = try SafetensorsWriter(path: path, specs: tensors.map { Spec(name: $0.0, shape: $0.1.shape) }, metadata: metadata)
        do {
            for (n, t) in tensors { try w.write(n, t) }
            try w.finish()
        } catch {
            w.abandon()
            throw error
        }
    }
}
