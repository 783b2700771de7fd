/// The small subset of Jinja2 that PyRIT's jailbreak templates use: `{{ name }}` variables,
/// `{{ 'literal' }}` escapes, `{% raw %}…{% endraw %}` blocks and `{# comments #}`. Anything else
/// (loops, filters, conditionals) is rejected so a template is never half-rendered.
public enum JinjaLite {
    /// Why a template cannot be rendered.
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case unsupported(String)
        case unknownVariable(String)
        case unterminated(String)

        public var description: String {
            switch self {
            case .unsupported(let tag): return "unsupported Jinja construct \(tag)"
            case .unknownVariable(let name): return "template needs variable '\(name)', which the importer does not fill"
            case .unterminated(let what): return "unterminated \(what)"
            }
        }
    }

    /// Variable names used in `{{ … }}` outside raw blocks (string literals excluded).
    public static func variables(in template: String) throws -> Set<String> {
        var names: Set<String> = []
        _ = try render(template) { name in names.insert(name); return "" }
        return names
    }

    /// Renders with `values`; unknown variables are an error.
    public static func render(_ template: String, values: [String: String]) throws -> String {
        try render(template) { name in
            guard let value = values[name] else { throw Failure.unknownVariable(name) }
            return value
        }
    }

    /// Renders, asking `lookup` for each variable.
    public static func render(_ template: String, lookup: (String) throws -> String) throws -> String {
        let chars = Array(template.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        func starts(_ token: String, at index: Int) -> Bool {
            let t = Array(token.unicodeScalars)
            guard index + t.count <= chars.count else { return false }
            for k in 0..<t.count where chars[index + k] != t[k] { return false }
            return true
        }
        func find(_ token: String, from index: Int) -> Int? {
            var j = index
            while j < chars.count { if starts(token, at: j) { return j }; j += 1 }
            return nil
        }
        func tagBody(_ from: Int, _ to: Int) -> String {
            var s = String(String.UnicodeScalarView(chars[from..<to]))
            s = s.trimmingWhitespaceAndDashes()
            return s
        }
        while i < chars.count {
            if starts("{#", at: i) {
                guard let end = find("#}", from: i + 2) else { throw Failure.unterminated("comment {# … #}") }
                i = end + 2
            } else if starts("{%", at: i) {
                guard let end = find("%}", from: i + 2) else { throw Failure.unterminated("tag {% … %}") }
                let body = tagBody(i + 2, end)
                guard body == "raw" else { throw Failure.unsupported("{% \(body) %}") }
                // Raw block: copy verbatim until the matching endraw tag.
                var j = end + 2
                var closed = false
                while let open = find("{%", from: j) {
                    guard let close = find("%}", from: open + 2) else { break }
                    if tagBody(open + 2, close) == "endraw" {
                        out.append(contentsOf: chars[(end + 2)..<open])
                        i = close + 2
                        closed = true
                        break
                    }
                    j = close + 2
                }
                guard closed else { throw Failure.unterminated("{% raw %} block") }
            } else if starts("{{", at: i) {
                var j = i + 2
                while j < chars.count, chars[j] == " " || chars[j] == "-" { j += 1 }
                if j < chars.count, chars[j] == "'" || chars[j] == "\"" {
                    // String literal, e.g. {{ '{{' }}: emits the literal; used to print braces.
                    let quote = chars[j]
                    guard let close = chars[(j + 1)...].firstIndex(of: quote) else { throw Failure.unterminated("string literal") }
                    out.append(contentsOf: chars[(j + 1)..<close])
                    guard let end = find("}}", from: close + 1) else { throw Failure.unterminated("{{ … }}") }
                    guard tagBody(close + 1, end).isEmpty else { throw Failure.unsupported("{{ \(tagBody(i + 2, end)) }}") }
                    i = end + 2
                } else {
                    guard let end = find("}}", from: i + 2) else { throw Failure.unterminated("{{ … }}") }
                    let name = tagBody(i + 2, end)
                    guard !name.isEmpty, name.unicodeScalars.allSatisfy({ $0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0) }) else {
                        throw Failure.unsupported("{{ \(name) }}")
                    }
                    out.append(contentsOf: try lookup(name).unicodeScalars)
                    i = end + 2
                }
            } else {
                out.append(chars[i])
                i += 1
            }
        }
        return String(out)
    }
}

private extension String {
    /// Jinja allows `{%- … -%}` whitespace control; we ignore the dashes and the spaces.
    func trimmingWhitespaceAndDashes() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "-" || first == "\n" || first == "\t" { scalars = scalars.dropFirst() }
        while let last = scalars.last, last == " " || last == "-" || last == "\n" || last == "\t" { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
