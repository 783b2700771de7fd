import Foundation

/// SHA-256 (FIPS 180-4) in pure Swift: Foundation on Linux has no CryptoKit, and splits, shard
/// content hashes and model hashes must agree bit for bit on every platform.
public struct SHA256: Sendable {
    /// Digest size in bytes.
    public static let digestSize = 32

    private var blocks = SHA256Blocks()
    private var buffer: [UInt8] = []
    private var totalBytes = 0

    public init() { buffer.reserveCapacity(64) }

    /// Feeds more bytes; call any number of times (streaming keeps memory flat for large files).
    public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        let done: Void? = bytes.withContiguousStorageIfAvailable { update($0) }
        if done != nil { return }
        for byte in bytes {
            totalBytes &+= 1
            buffer.append(byte)
            if buffer.count == 64 { compressBuffer() }
        }
    }

    /// Feeds a buffer: fast path that compresses whole blocks without copying byte by byte.
    public mutating func update(_ data: Data) {
        data.withUnsafeBytes { raw in update(raw.bindMemory(to: UInt8.self)) }
    }

    /// Feeds a contiguous buffer.
    public mutating func update(_ raw: UnsafeBufferPointer<UInt8>) {
        totalBytes &+= raw.count
        var index = 0
        if !buffer.isEmpty {
            while index < raw.count && buffer.count < 64 { buffer.append(raw[index]); index += 1 }
            if buffer.count == 64 { compressBuffer() }
        }
        if let base = raw.baseAddress, raw.count - index >= 64 {
            let whole = (raw.count - index) / 64
            blocks.compress(UnsafeRawPointer(base + index), blocks: whole)
            index += whole * 64
        }
        while index < raw.count { buffer.append(raw[index]); index += 1 }
    }

    /// Feeds the UTF-8 bytes of a string.
    public mutating func update(_ text: String) {
        var copy = text
        copy.withUTF8 { update($0) }
    }

    /// Finishes the hash: the 32-byte digest.
    public mutating func finalize() -> [UInt8] {
        let digest = buffer.withUnsafeBytes { blocks.finish(tail: $0, total: totalBytes) }
        buffer.removeAll()
        return digest
    }

    /// One-shot digest of bytes.
    public static func hash<Bytes: Sequence>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// One-shot digest of a string's UTF-8 bytes.
    public static func hash(_ text: String) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(text)
        return hasher.finalize()
    }

    /// Lower-case hex of a digest (or any bytes).
    public static func hex<Bytes: Sequence>(_ digest: Bytes) -> String where Bytes.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in digest { out.append(digits[Int(byte >> 4)]); out.append(digits[Int(byte & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Hex digest of a file, read in 1 MiB chunks so multi-GB checkpoints hash in flat memory.
    public static func hexDigest(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(chunk) }
        return hex(hasher.finalize())
    }

    private mutating func compressBuffer() {
        buffer.withUnsafeBytes { blocks.compress($0.baseAddress!, blocks: 1) }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// 64-bit FNV-1a: a tiny, fast, stable hash for seeding and bucketing (not for integrity checks).
public enum FNV1a {
    /// Hash of bytes.
    public static func hash64<Bytes: Sequence>(_ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { h ^= UInt64(byte); h &*= 0x0000_0100_0000_01b3 }
        return h
    }

    /// Hash of a string's UTF-8 bytes.
    public static func hash64(_ text: String) -> UInt64 { hash64(text.utf8) }
}
