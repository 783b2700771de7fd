import Foundation

/// SHA-256 (FIPS 180-4) in pure Swift: Foundation on Linux has no CryptoKit, and splits, shard
/// content hashes and model hashes must agree bit for bit on every platform.
public struct SHA256: Sendable {
    /// Digest size in bytes.
    public static let digestSize = 32

    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    private var state: [UInt32] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ]
    private var buffer: [UInt8] = []
    private var totalBytes: UInt64 = 0

    public init() { buffer.reserveCapacity(64) }

    /// Feeds more bytes; call any number of times (streaming keeps memory flat for large files).
    public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        let done: Void? = bytes.withContiguousStorageIfAvailable { update($0) }
        if done != nil { return }
        for byte in bytes {
            totalBytes &+= 1
            buffer.append(byte)
            if buffer.count == 64 { compress(buffer); buffer.removeAll(keepingCapacity: true) }
        }
    }

    /// Feeds a buffer: fast path that compresses whole blocks without copying byte by byte.
    public mutating func update(_ data: Data) {
        data.withUnsafeBytes { raw in update(raw.bindMemory(to: UInt8.self)) }
    }

    /// Feeds a contiguous buffer.
    public mutating func update(_ raw: UnsafeBufferPointer<UInt8>) {
        totalBytes &+= UInt64(raw.count)
        var index = 0
        if !buffer.isEmpty {
            while index < raw.count && buffer.count < 64 { buffer.append(raw[index]); index += 1 }
            if buffer.count == 64 { compress(buffer); buffer.removeAll(keepingCapacity: true) }
        }
        while raw.count - index >= 64 {
            compress(UnsafeBufferPointer(rebasing: raw[index..<(index + 64)]))
            index += 64
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
        let bitLength = totalBytes &* 8
        var tail = buffer
        tail.append(0x80)
        while tail.count % 64 != 56 { tail.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) { tail.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
        for start in stride(from: 0, to: tail.count, by: 64) { compress(Array(tail[start..<(start + 64)])) }
        buffer.removeAll()
        var digest: [UInt8] = []
        digest.reserveCapacity(32)
        for word in state { for shift in [24, 16, 8, 0] { digest.append(UInt8(truncatingIfNeeded: word >> UInt32(shift))) } }
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

    private mutating func compress<Block: RandomAccessCollection>(_ block: Block) where Block.Element == UInt8, Block.Index == Int {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            compress(block, schedule: w)
        }
    }

    private mutating func compress<Block: RandomAccessCollection>(_ block: Block, schedule w: UnsafeMutableBufferPointer<UInt32>)
    where Block.Element == UInt8, Block.Index == Int {
        let base = block.startIndex
        for i in 0..<16 {
            let j = base + i * 4
            w[i] = UInt32(block[j]) << 24 | UInt32(block[j + 1]) << 16 | UInt32(block[j + 2]) << 8 | UInt32(block[j + 3])
        }
        for i in 16..<64 {
            let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
            let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
            w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
        }
        var a = state[0], b = state[1], c = state[2], d = state[3]
        var e = state[4], f = state[5], g = state[6], h = state[7]
        for i in 0..<64 {
            let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
            let ch = (e & f) ^ (~e & g)
            let t1 = h &+ s1 &+ ch &+ Self.k[i] &+ w[i]
            let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
            let maj = (a & b) ^ (a & c) ^ (b & c)
            let t2 = s0 &+ maj
            h = g; g = f; f = e; e = d &+ t1
            d = c; c = b; b = a; a = t1 &+ t2
        }
        state[0] &+= a; state[1] &+= b; state[2] &+= c; state[3] &+= d
        state[4] &+= e; state[5] &+= f; state[6] &+= g; state[7] &+= h
    }

    @inline(__always) private func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
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
