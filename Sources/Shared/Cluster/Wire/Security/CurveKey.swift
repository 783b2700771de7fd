import CZMQ
import Foundation

/// A 32-byte CURVE25519 key (public or secret), written as 40 Z85 characters in files and configs.
public struct CurveKey: Hashable, Sendable, CustomStringConvertible {
    public let bytes: Data

    public init(bytes: Data) throws(CurveError) {
        guard bytes.count == 32 else { throw .invalidKey("expected 32 bytes, got \(bytes.count)") }
        self.bytes = bytes
    }

    /// Parses the 40-character Z85 form (surrounding whitespace allowed).
    public init(z85 text: String) throws(CurveError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.utf8.count == 40, trimmed.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .invalidKey("expected 40 Z85 characters, got \(trimmed.utf8.count)")
        }
        var buffer = [UInt8](repeating: 0, count: 32)
        guard zmq_z85_decode(&buffer, trimmed) != nil else {
            throw .invalidKey("not valid Z85 text")
        }
        self.bytes = Data(buffer)
    }

    /// The 40-character Z85 text form.
    public var z85: String {
        var text = [CChar](repeating: 0, count: 41)
        bytes.withUnsafeBytes { raw in
            _ = zmq_z85_encode(&text, raw.bindMemory(to: UInt8.self).baseAddress, 32)
        }
        return Self.string(fromC: text)
    }

    /// Text of a NUL-terminated C buffer filled by libzmq.
    static func string(fromC buffer: [CChar]) -> String {
        String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Abbreviated so that logging a secret key by accident does not leak it.
    public var description: String { "CurveKey(\(z85.prefix(8))…)" }
}
