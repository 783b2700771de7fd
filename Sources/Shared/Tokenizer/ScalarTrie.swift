/// A prefix tree over Unicode scalars, so longest-match lookups walk the text without building Strings.
///
/// Edges live in one flat hash map keyed by (node, scalar): one hash probe per character, and far
/// less memory than a dictionary per node for a 30k-token vocabulary.
struct ScalarTrie: Sendable {
    static let root: Int32 = 0

    private var edges: [UInt64: Int32] = [:]
    /// Value stored at each node (a token id), or -1 when no key ends there.
    private var values: [Int32] = [-1]

    init() {}

    var nodeCount: Int { values.count }

    /// Stores `value` under `key`, replacing a previous value (later vocab lines win, as in HF).
    mutating func insert<S: Sequence<Unicode.Scalar>>(_ key: S, value: Int32) {
        var node = Self.root
        for s in key {
            let k = Self.edgeKey(node, s)
            if let next = edges[k] {
                node = next
            } else {
                let next = Int32(values.count)
                values.append(-1)
                edges[k] = next
                node = next
            }
        }
        values[Int(node)] = value
    }

    @inline(__always)
    func child(_ node: Int32, _ s: Unicode.Scalar) -> Int32? {
        edges[Self.edgeKey(node, s)]
    }

    @inline(__always)
    func value(_ node: Int32) -> Int32? {
        let v = values[Int(node)]
        return v >= 0 ? v : nil
    }

    /// The node reached by walking `key` from `start`, if every edge exists.
    func node<S: Sequence<Unicode.Scalar>>(for key: S, from start: Int32 = ScalarTrie.root) -> Int32? {
        var node = start
        for s in key {
            guard let next = child(node, s) else { return nil }
            node = next
        }
        return node
    }

    /// The longest key starting at `text[start]` and ending before `end`: its end index and value.
    @inline(__always)
    func longestMatch(in text: [Unicode.Scalar], from start: Int, to end: Int, startNode: Int32 = ScalarTrie.root) -> (end: Int, value: Int32)? {
        var node = startNode
        var best: (end: Int, value: Int32)?
        var i = start
        while i < end, let next = child(node, text[i]) {
            node = next
            i += 1
            if let v = value(node) { best = (i, v) }
        }
        return best
    }

    @inline(__always)
    private static func edgeKey(_ node: Int32, _ s: Unicode.Scalar) -> UInt64 {
        (UInt64(UInt32(bitPattern: node)) << 21) | UInt64(s.value)
    }
}
