import Foundation

/// A tensor-name filter: a substring (mergekit's `filter:` rule) or, written `/like this/`, a regular expression.
public struct NamePattern: Sendable, Hashable, Codable, CustomStringConvertible {
    public let pattern: String
    public let isRegex: Bool

    /// Parses `text`: `/…/` is a regex (validated here so a bad one fails at config time), anything else a substring.
    public init(_ text: String) throws {
        if text.count >= 2, text.hasPrefix("/"), text.hasSuffix("/") {
            let body = String(text.dropFirst().dropLast())
            do { _ = try Regex(body) } catch {
                throw MergeError.badParameter(name: "filter", tensor: "*", reason: "'\(body)' is not a valid regular expression: \(error)")
            }
            pattern = body
            isRegex = true
        } else {
            pattern = text
            isRegex = false
        }
    }

    public init(substring: String) { pattern = substring; isRegex = false }

    public func matches(_ name: String) -> Bool {
        if !isRegex { return pattern == "*" || name.contains(pattern) }
        // Compiled per call: filters run once per tensor (hundreds), and Regex values are not Sendable-friendly to cache.
        guard let re = try? Regex(pattern) else { return false }
        return name.contains(re)
    }

    public var description: String { isRegex ? "/\(pattern)/" : pattern }

    // Encoded as the string the user wrote (`self_attn` or `/layer\.[0-3]\./`), so JSON state stays readable.
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(error)"))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
