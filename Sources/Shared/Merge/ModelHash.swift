import Foundation

/// SHA-256 of input model files for merge provenance. Same digest as `SHA256` in Data/Hashing.swift, but the
/// compression keeps its state in locals and reads whole blocks from a raw buffer (about 2x faster), because hashing
/// three or four 90 MB checkpoints otherwise costs more than the merge itself. Fold into Hashing.swift later.
enum ModelHash {
    /// Reads with `read(2)` into one reused 4 MiB buffer rather than mapping the file: the merge already maps the
    /// inputs, and a second mapping would count every page twice in the process's resident size.
    static func sha256(ofFile path: String) throws -> String {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw MergeError.badModel(path: path, reason: "cannot open for hashing: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let capacity = 4 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
        defer { buffer.deallocate() }
        var h = SHA256Blocks()
        var total = 0, filled = 0
        while true {
            let got = read(fd, buffer + filled, capacity - filled)
            if got < 0 {
                if errno == EINTR { continue }
                throw MergeError.badModel(path: path, reason: "read failed while hashing: \(String(cString: strerror(errno)))")
            }
            if got == 0 { break }
            filled += got
            total += got
            let whole = filled / 64 * 64
            h.compress(UnsafeRawPointer(buffer), blocks: whole / 64)
            // Keep the partial block at the front for the next read.
            if whole < filled { (buffer).copyMemory(from: buffer + whole, byteCount: filled - whole) }
            filled -= whole
        }
        return SHA256.hex(h.finish(tail: UnsafeRawBufferPointer(start: buffer, count: filled), total: total))
    }

    /// Hashes files on a background queue while the caller merges (two cores: the hash is then nearly free).
    final class Background: @unchecked Sendable {
        private let lock = NSLock()
        private var results: [String: Result<String, Error>] = [:]
        private let group = DispatchGroup()

        init(paths: [String]) {
            for p in paths {
                DispatchQueue.global(qos: .utility).async(group: group) { [self] in
                    let r = Result { try ModelHash.sha256(ofFile: p) }
                    lock.lock(); results[p] = r; lock.unlock()
                }
            }
        }

        /// Waits for every hash; rethrows the first failure.
        func wait() throws -> [String: String] {
            group.wait()
            lock.lock(); defer { lock.unlock() }
            return try results.mapValues { try $0.get() }
        }
    }
}

/// The SHA-256 block function (FIPS 180-4) with the state in locals, for whole 64-byte blocks of raw memory.
struct SHA256Blocks {
    private var h0: UInt32 = 0x6a09e667, h1: UInt32 = 0xbb67ae85, h2: UInt32 = 0x3c6ef372, h3: UInt32 = 0xa54ff53a
    private var h4: UInt32 = 0x510e527f, h5: UInt32 = 0x9b05688c, h6: UInt32 = 0x1f83d9ab, h7: UInt32 = 0x5be0cd19

    static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    @inline(__always) static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 &- n)) }

    mutating func compress(_ p: UnsafeRawPointer, blocks: Int) {
        guard blocks > 0 else { return }
        Self.k.withUnsafeBufferPointer { kp in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
                var a0 = h0, b0 = h1, c0 = h2, d0 = h3, e0 = h4, f0 = h5, g0 = h6, hh = h7
                for blk in 0..<blocks {
                    let base = p + blk * 64
                    for i in 0..<16 { w[i] = UInt32(bigEndian: base.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)) }
                    for i in 16..<64 {
                        let x = w[i - 15], y = w[i - 2]
                        let s0 = Self.rotr(x, 7) ^ Self.rotr(x, 18) ^ (x >> 3)
                        let s1 = Self.rotr(y, 17) ^ Self.rotr(y, 19) ^ (y >> 10)
                        w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
                    }
                    var a = a0, b = b0, c = c0, d = d0, e = e0, f = f0, g = g0, h = hh
                    for i in 0..<64 {
                        let s1 = Self.rotr(e, 6) ^ Self.rotr(e, 11) ^ Self.rotr(e, 25)
                        let ch = (e & f) ^ (~e & g)
                        let t1 = h &+ s1 &+ ch &+ kp[i] &+ w[i]
                        let s0 = Self.rotr(a, 2) ^ Self.rotr(a, 13) ^ Self.rotr(a, 22)
                        let maj = (a & b) ^ (a & c) ^ (b & c)
                        h = g; g = f; f = e; e = d &+ t1
                        d = c; c = b; b = a; a = t1 &+ s0 &+ maj
                    }
                    a0 &+= a; b0 &+= b; c0 &+= c; d0 &+= d; e0 &+= e; f0 &+= f; g0 &+= g; hh &+= h
                }
                h0 = a0; h1 = b0; h2 = c0; h3 = d0; h4 = e0; h5 = f0; h6 = g0; h7 = hh
            }
        }
    }

    /// Pads the last partial block (`tail`, under 64 bytes) for a message of `total` bytes; returns the digest.
    mutating func finish(tail: UnsafeRawBufferPointer, total: Int) -> [UInt8] {
        var last = [UInt8](tail)
        last.append(0x80)
        while last.count % 64 != 56 { last.append(0) }
        let bitLength = UInt64(total) &* 8
        for shift in stride(from: 56, through: 0, by: -8) { last.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
        last.withUnsafeBytes { compress($0.baseAddress!, blocks: $0.count / 64) }
        var digest: [UInt8] = []
        for word in [h0, h1, h2, h3, h4, h5, h6, h7] {
            for shift in [24, 16, 8, 0] as [UInt32] { digest.append(UInt8(truncatingIfNeeded: word >> shift)) }
        }
        return digest
    }
}
