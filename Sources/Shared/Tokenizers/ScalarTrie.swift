/// A prefix tree over Unicode scalars, so longest-match lookups walk the text without building Strings.
///
/// All edges live in one open-addressing hash table keyed by (node, scalar) with a multiplicative
/// hash: one cheap probe per character, and far less memory than a dictionary per node.
struct ScalarTrie: Sendable {
    static let root: Int32 = 0

    private static let empty = UInt64.max
    private var keys: [UInt64]
    private var targets: [Int32]
    private var shift: UInt64
    private var edgeCount = 0
    /// Value stored at each node (a token id), or -1 when no key ends there.
    private var values: [Int32] = [-1]

    init() {
        keys = [UInt64](repeating: Self.empty, count: 64)
        targets = [Int32](repeating: -1, count: 64)
        shift = 64 - 6
    }

    var nodeCount: Int { values.count }

    /// Stores `value` under `key`, replacing a previous value (later vocab lines win, as in HF).
    mutating func insert<S: Sequence<Unicode.Scalar>>(_ key: S, value: Int32) {
        var node = Self.root
        for s in key {
            if let next = child(node, s) {
                node = next
            } else {
                let next = Int32(values.count)
                values.append(-1)
                addEdge(Self.edgeKey(node, s), to: next)
                node = next
            }
        }
        values[Int(node)] = value
    }

    @inline(__always)
    func child(_ node: Int32, _ s: Unicode.Scalar) -> Int32? {
        let k = Self.edgeKey(node, s)
        let mask = keys.count - 1
        var i = slot(k)
        while true {
            let found = keys[i]
            if found == k { return targets[i] }
            if found == Self.empty { return nil }
            i = (i + 1) & mask
        }
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
    private func slot(_ k: UInt64) -> Int {
        Int(truncatingIfNeeded: (k &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    private mutating func addEdge(_ k: UInt64, to target: Int32) {
        // Keep the load factor at most 1/2 so probe chains stay short.
        if (edgeCount + 1) * 2 > keys.count { grow() }
        let mask = keys.count - 1
        var i = slot(k)
        while keys[i] != Self.empty { i = (i + 1) & mask }
        keys[i] = k
        targets[i] = target
        edgeCount += 1
    }

    private mutating func grow() {
        let oldKeys = keys
        let oldTargets = targets
        keys = [UInt64](repeating: Self.empty, count: oldKeys.count * 2)
        targets = [Int32](repeating: -1, count: oldKeys.count * 2)
        shift -= 1
        edgeCount = 0
        for (k, t) in zip(oldKeys, oldTargets) where k != Self.empty { addEdge(k, to: t) }
    }

    @inline(__always)
    private static func edgeKey(_ node: Int32, _ s: Unicode.Scalar) -> UInt64 {
        (UInt64(UInt32(bitPattern: node)) << 21) | UInt64(s.value)
    }
}
