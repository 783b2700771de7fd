import Foundation
@testable import Tokenizers
import XCTest

/// The precomputed Unicode tables behind the BERT normaliser agree with their definitions.
final class UnicodeTokenizerTests: XCTestCase {
    /// Table flags equal the per-property definitions (HF's `_is_control`, `_is_whitespace`, ...) for every scalar.
    func testScalarTableMatchesPropertyDefinitions() {
        let table = BertScalarTable.shared
        var mismatches: [String] = []
        for v in UInt32(0)...0x10FFFF {
            guard let s = Unicode.Scalar(v) else { continue }
            let f = table.flags(s)
            let expected: [(BertScalarTable.Flags, Bool)] = [
                (.control, s.isBertControl), (.whitespace, s.isBertWhitespace), (.punctuation, s.isBertPunctuation),
                (.nonspacingMark, s.isNonspacingMark), (.cjk, s.isCJKIdeograph), (.lowercases, s.properties.changesWhenLowercased),
            ]
            for (flag, want) in expected where f.contains(flag) != want {
                mismatches.append(String(format: "U+%04X flag %d", v, flag.rawValue))
            }
        }
        XCTAssertEqual(mismatches.prefix(20), [])
    }

    /// The generated decomposition table (plus algorithmic Hangul) is NFD, checked against Foundation
    /// on every scalar of the blocks that have canonical decompositions.
    func testDecompositionsMatchFoundationNFD() {
        let table = BertScalarTable.shared
        var checked = 0
        var mismatches: [String] = []
        for range in [UInt32(0x80)...0xFFFF, 0x10000...0x1FFFF, 0x2F800...0x2FA1F] {
            for v in range {
                guard let s = Unicode.Scalar(v), s.properties.generalCategory != .unassigned else { continue }
                var ours: [UInt32] = []
                if table.flags(s).contains(.decomposes) { table.forEachDecomposed(s) { ours.append($0.value) } } else { ours = [v] }
                let theirs = String(Character(s)).decomposedStringWithCanonicalMapping.unicodeScalars.map(\.value)
                if ours != theirs { mismatches.append(String(format: "U+%04X", v)) }
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 50_000)
        // Scalars new since the table's Unicode version may decompose in Foundation only.
        XCTAssertLessThanOrEqual(mismatches.count, 40, "\(mismatches.prefix(40))")
        print("decompositions: \(checked) scalars checked, \(mismatches.count) differ from Foundation: \(mismatches.prefix(40))")
    }
}
