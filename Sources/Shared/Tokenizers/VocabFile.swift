import Foundation

/// BERT's `vocab.txt`: one token per line, the id being the line number (from 0).
enum VocabFile {
    /// Reads the tokens in line order. Lines end at `\n`, `\r\n` or `\r` (Python's universal newlines,
    /// which HF's `load_vocab` uses); a final empty line after the last newline is not a token.
    static func read(_ url: URL) throws -> [String] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TokenizerError.unreadable(path: url.path, reason: error.localizedDescription)
        }
        return try parse(data, path: url.path)
    }

    static func parse(_ data: Data, path: String) throws -> [String] {
        var tokens: [String] = []
        tokens.reserveCapacity(data.count / 7)
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            var start = 0
            var i = 0
            func emit(_ end: Int) throws {
                guard let token = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self) else {
                    throw TokenizerError.invalid(path: path, reason: "line \(tokens.count + 1) is not valid UTF-8")
                }
                tokens.append(token)
            }
            while i < bytes.count {
                let b = bytes[i]
                if b == 0x0A || b == 0x0D {
                    try emit(i)
                    if b == 0x0D, i + 1 < bytes.count, bytes[i + 1] == 0x0A { i += 1 }
                    start = i + 1
                }
                i += 1
            }
            if start < bytes.count { try emit(bytes.count) }
        }
        guard !tokens.isEmpty else { throw TokenizerError.invalid(path: path, reason: "the vocabulary is empty") }
        return tokens
    }
}
