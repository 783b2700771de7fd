import Crypto
import Foundation

/// SHA-256 for splits, shard and corpus content hashes, blob and model hashes: swift-crypto (BoringSSL, which uses
/// the CPU's SHA extensions) behind the small streaming API the project uses. It replaced a pure-Swift compressor
/// that hashed about 6x slower (README, "Libraries"); digests are the same bytes.
public struct SHA256: Sendable {
    /// Digest size in bytes.
    public static let digestSize = 32

    private var hasher = Crypto.SHA256()

    public init() {}

    /// Feeds more bytes; call any number of times (streaming keeps memory flat for large files).
    public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        let done: Void? = bytes.withContiguousStorageIfAvailable { update($0) }
        if done == nil { hasher.update(data: Array(bytes)) }
    }

    /// Feeds a buffer.
    public mutating func update(_ data: Data) { hasher.update(data: data) }

    /// Feeds a contiguous buffer.
    public mutating func update(_ raw: UnsafeBufferPointer<UInt8>) { hasher.update(bufferPointer: UnsafeRawBufferPointer(raw)) }

    /// Feeds the UTF-8 bytes of a string.
    public mutating func update(_ text: String) {
        var copy = text
        copy.withUTF8 { update($0) }
    }

    /// Finishes the hash: the 32-byte digest (the hasher starts over afterwards).
    public mutating func finalize() -> [UInt8] {
        defer { hasher = Crypto.SHA256() }
        return Array(hasher.finalize())
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

    /// Hex digest of a file in flat memory. Reads with `read(2)` into one reused 4 MiB buffer rather than mapping
    /// the file: a merge already maps its inputs, and a second mapping would count every page twice in the
    /// process's resident size.
    public static func hexDigest(ofFile path: String) throws -> String {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw HashingError(path: path, reason: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let capacity = 4 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
        defer { buffer.deallocate() }
        var hasher = SHA256()
        while true {
            let got = read(fd, buffer, capacity)
            if got < 0 {
                if errno == EINTR { continue }
                throw HashingError(path: path, reason: "read failed: \(String(cString: strerror(errno)))")
            }
            if got == 0 { break }
            hasher.hasher.update(bufferPointer: UnsafeRawBufferPointer(start: buffer, count: got))
        }
        return hex(hasher.finalize())
    }
}

/// A file that could not be hashed, and why.
public struct HashingError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String

    public var description: String { "\(path): \(reason)" }
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
