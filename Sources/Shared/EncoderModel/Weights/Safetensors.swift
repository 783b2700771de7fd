import Foundation

/// Element types a safetensors file may hold.
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL

    public var byteSize: Int {
        switch self {
        case .F64, .I64: return 8
        case .F32, .I32: return 4
        case .F16, .BF16, .I16: return 2
        case .I8, .U8, .BOOL: return 1
        }
    }
}

/// One tensor's entry in a safetensors header; offsets are relative to the start of the data section.
public struct SafetensorsEntry: Sendable, Equatable {
    public let name: String
    public let dtype: SafetensorsDType
    public let shape: [Int]
    public let begin: Int
    public let end: Int
    public var elementCount: Int { shape.reduce(1, *) }
}

/// A read-only memory mapping that lives as long as any tensor viewing it.
final class MappedFile: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let size: Int

    init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw SafetensorsError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SafetensorsError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        size = Int(st.st_size)
        guard size > 0 else { throw SafetensorsError.truncated(path: path, reason: "file is empty") }
        // PROT_WRITE + MAP_PRIVATE: a stray write copies the page instead of faulting or touching the file.
        let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { throw SafetensorsError.unreadable(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))") }
        base = p
    }

    deinit { munmap(base, size) }
}

/// A safetensors file mapped into memory: F32 tensors are zero-copy views, other float types convert.
public final class SafetensorsFile: @unchecked Sendable {
    public let path: String
    public let metadata: [String: String]
    /// Entries in file order.
    public let entries: [SafetensorsEntry]
    private let index: [String: Int]
    private let map: MappedFile
    private let dataStart: Int

    /// The whole file as mapped, header included (valid while this object lives): hashing it from here reads
    /// each page once for both the hash and the tensors, with no copy through a read buffer.
    public var fileBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: map.base, count: map.size) }

    /// Headers beyond this size are refused as corrupt rather than parsed (real ones are a few hundred KB).
    public static let maxHeaderBytes = 100 << 20

    public convenience init(url: URL) throws { try self.init(path: url.path) }

    public init(path: String) throws {
        self.path = path
        map = try MappedFile(path: path)
        guard map.size >= 8 else { throw SafetensorsError.truncated(path: path, reason: "\(map.size) bytes, fewer than the 8-byte header length") }
        let rawLen = UInt64(littleEndian: map.base.loadUnaligned(as: UInt64.self))
        guard rawLen <= UInt64(Self.maxHeaderBytes) else {
            throw SafetensorsError.badHeader(path: path, reason: "header length \(rawLen) is implausible")
        }
        let headerLen = Int(rawLen)
        guard headerLen <= map.size - 8 else {
            throw SafetensorsError.truncated(path: path, reason: "header claims \(headerLen) bytes but only \(map.size - 8) follow")
        }
        dataStart = 8 + headerLen
        let headerData = Data(bytes: map.base + 8, count: headerLen)
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: headerData) } catch {
            throw SafetensorsError.badHeader(path: path, reason: "header is not valid JSON")
        }
        guard let dict = json as? [String: Any] else { throw SafetensorsError.badHeader(path: path, reason: "header is not a JSON object") }
        let dataSize = map.size - dataStart
        var meta: [String: String] = [:]
        var list: [SafetensorsEntry] = []
        for (name, value) in dict {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw SafetensorsError.badHeader(path: path, reason: "__metadata__ is not an object") }
                for (k, v) in m { meta[k] = (v as? String) ?? "\(v)" }
                continue
            }
            list.append(try Self.parseEntry(name: name, value: value, path: path, dataSize: dataSize))
        }
        list.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        for i in list.indices.dropFirst() where list[i].begin < list[i - 1].end {
            throw SafetensorsError.badTensor(path: path, tensor: list[i].name, reason: "data overlaps tensor '\(list[i - 1].name)'")
        }
        metadata = meta
        entries = list
        index = Dictionary(uniqueKeysWithValues: list.enumerated().map { ($1.name, $0) })
    }

    private static func parseEntry(name: String, value: Any, path: String, dataSize: Int) throws -> SafetensorsEntry {
        guard let e = value as? [String: Any] else { throw SafetensorsError.badTensor(path: path, tensor: name, reason: "entry is not an object") }
        guard let ds = e["dtype"] as? String else { throw SafetensorsError.badTensor(path: path, tensor: name, reason: "missing dtype") }
        guard let dtype = SafetensorsDType(rawValue: ds) else { throw SafetensorsError.unsupportedDType(path: path, tensor: name, dtype: ds) }
        guard let shapeAny = e["shape"] as? [Any], let shape = intArray(shapeAny), shape.allSatisfy({ $0 >= 0 }) else {
            throw SafetensorsError.badTensor(path: path, tensor: name, reason: "shape is not a list of non-negative integers")
        }
        guard let offAny = e["data_offsets"] as? [Any], let off = intArray(offAny), off.count == 2 else {
            throw SafetensorsError.badTensor(path: path, tensor: name, reason: "data_offsets is not [begin, end]")
        }
        let (b, en) = (off[0], off[1])
        guard b >= 0, b <= en else { throw SafetensorsError.badTensor(path: path, tensor: name, reason: "data_offsets [\(b), \(en)] are out of order") }
        guard en <= dataSize else {
            throw SafetensorsError.truncated(path: path, reason: "tensor '\(name)' ends at byte \(en) of a \(dataSize)-byte data section")
        }
        let (numel, overflow) = shape.reduce((1, false)) { acc, d in
            let r = acc.0.multipliedReportingOverflow(by: d); return (r.partialValue, acc.1 || r.overflow)
        }
        guard !overflow, numel * dtype.byteSize == en - b else {
            throw SafetensorsError.badTensor(path: path, tensor: name,
                reason: "shape \(shape) of \(ds) needs \(overflow ? -1 : numel * dtype.byteSize) bytes but data_offsets span \(en - b)")
        }
        return SafetensorsEntry(name: name, dtype: dtype, shape: shape, begin: b, end: en)
    }

    private static func intArray(_ a: [Any]) -> [Int]? {
        var out: [Int] = []
        for v in a {
            guard let n = v as? NSNumber, n.doubleValue == n.doubleValue.rounded(), abs(n.doubleValue) < 9e15 else { return nil }
            out.append(n.intValue)
        }
        return out
    }

    public var names: [String] { entries.map(\.name) }
    public func entry(_ name: String) -> SafetensorsEntry? { index[name].map { entries[$0] } }
    public func contains(_ name: String) -> Bool { index[name] != nil }

    private func require(_ name: String) throws -> SafetensorsEntry {
        guard let e = entry(name) else { throw SafetensorsError.missingTensor(path: path, tensor: name) }
        return e
    }

    private func raw(_ e: SafetensorsEntry) -> UnsafeMutableRawPointer { map.base + dataStart + e.begin }

    /// The tensor as Float32: a zero-copy view for aligned F32, a converted copy for F16/BF16/F64 or unaligned data.
    public func tensor(_ name: String) throws -> Tensor {
        let e = try require(name)
        let p = raw(e)
        switch e.dtype {
        case .F32:
            if Int(bitPattern: p) % MemoryLayout<Float>.alignment == 0 {
                return Tensor(shape: e.shape, borrowing: p.assumingMemoryBound(to: Float.self), owner: map)
            }
            let t = Tensor(zeros: e.shape)
            memcpy(t.data, p, e.end - e.begin)
            return t
        case .F16:
            let t = Tensor(zeros: e.shape)
            for i in 0..<e.elementCount { t.data[i] = Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
            return t
        case .BF16:
            let t = Tensor(zeros: e.shape)
            for i in 0..<e.elementCount {
                let bits = UInt32(p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16
                t.data[i] = Float(bitPattern: bits)
            }
            return t
        case .F64:
            let t = Tensor(zeros: e.shape)
            for i in 0..<e.elementCount { t.data[i] = Float(p.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
            return t
        default:
            throw SafetensorsError.unsupportedDType(path: path, tensor: name, dtype: e.dtype.rawValue)
        }
    }

    /// The tensor as Float32, checking its shape first.
    public func tensor(_ name: String, shape: [Int]) throws -> Tensor {
        let e = try require(name)
        guard e.shape == shape else { throw SafetensorsError.shapeMismatch(path: path, tensor: name, expected: shape, found: e.shape) }
        return try tensor(name)
    }

    /// An integer tensor (I64/I32/I16/I8/U8/BOOL) widened to Int64.
    public func int64s(_ name: String) throws -> [Int64] {
        let e = try require(name)
        let p = raw(e)
        let n = e.elementCount
        switch e.dtype {
        case .I64: return (0..<n).map { p.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self) }
        case .I32: return (0..<n).map { Int64(p.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) }
        case .I16: return (0..<n).map { Int64(p.loadUnaligned(fromByteOffset: 2 * $0, as: Int16.self)) }
        case .I8: return (0..<n).map { Int64(p.load(fromByteOffset: $0, as: Int8.self)) }
        case .U8, .BOOL: return (0..<n).map { Int64(p.load(fromByteOffset: $0, as: UInt8.self)) }
        default: throw SafetensorsError.unsupportedDType(path: path, tensor: name, dtype: e.dtype.rawValue)
        }
    }
}
