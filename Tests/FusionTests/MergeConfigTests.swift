import Foundation
@testable import Fusion
import XCTest

/// YAML parsing (mergekit shape + our keys) and the errors users see for bad configs.
final class MergeConfigTests: XCTestCase {
    func parse(_ yaml: String) throws -> MergeConfig { try MergeConfig.parse(yaml: yaml, source: "test.yml") }

    func assertConfigError(_ yaml: String, key: String, contains text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try parse(yaml), file: file, line: line) { error in
            guard case MergeError.badConfig(let f, let k, let reason) = error else {
                return XCTFail("unexpected error \(error)", file: file, line: line)
            }
            XCTAssertEqual(f, "test.yml", file: file, line: line)
            XCTAssertEqual(k, key, file: file, line: line)
            XCTAssertTrue(reason.contains(text), "\(reason)", file: file, line: line)
        }
    }

    func testMergekitShapeWithOurKeys() throws {
        let c = try parse("""
        merge_method: ties
        base_model: base
        models:
          - model: a
            parameters: {weight: [0.2, 0.8], density: 0.5}
          - model: b
            parameters:
              weight:
                - filter: self_attn
                  value: 0.7
                - value: 0.3
        parameters: {normalize: false, lambda: 1.5}
        dtype: bfloat16
        subset: {kind: all_but_classifier, include: attention, exclude: ["/layer\\\\.0\\\\./"]}
        top_model: b
        random_seed: 42
        """)
        XCTAssertEqual(c.method, .ties)
        XCTAssertEqual(c.baseModel, "base")
        XCTAssertEqual(c.models.map(\.path), ["a", "b"])
        XCTAssertEqual(c.models[0].parameters["weight"], .gradient([0.2, 0.8]))
        XCTAssertEqual(c.value("weight", model: "b", tensor: "model.self_attn.q", t: 0), .number(0.7))
        XCTAssertEqual(c.value("weight", model: "b", tensor: "mlp.up", t: 0), .number(0.3))
        XCTAssertEqual(c.value("weight", model: "a", tensor: "x", t: 0.5), .number(0.5))
        XCTAssertEqual(c.value("normalize", model: nil, tensor: "x", t: 0), .bool(false))
        XCTAssertEqual(c.subset.kind, .allButClassifier)
        XCTAssertTrue(c.subset.contains("encoder.layer.1.attention.self.query.weight"))
        XCTAssertFalse(c.subset.contains("encoder.layer.0.attention.self.query.weight"))
        XCTAssertFalse(c.subset.contains("encoder.layer.1.output.dense.weight"))
        XCTAssertEqual(c.resolvedTopModel, "b")
        XCTAssertEqual(c.randomSeed, 42)
        XCTAssertEqual(c.dtype, "bfloat16")
    }

    func testFixtureConfigsParse() throws {
        for m in MergeFixtureTests.methods { XCTAssertNoThrow(try MergeFixtures.config(m), m) }
    }

    func testTopModelDefaultsToFirstNonBaseModel() throws {
        let c = try parse("merge_method: ties\nbase_model: base\nmodels:\n  - model: base\n  - model: a\n    parameters: {weight: 1}\n")
        XCTAssertEqual(c.resolvedTopModel, "a")
        XCTAssertEqual(c.contributors, ["a"])
    }

    func testErrorsNameTheKey() {
        assertConfigError("merge_method: frankenmerge\nmodels: [a]", key: "merge_method", contains: "ties")
        assertConfigError("merge_method: linear\nmodels: []", key: "models", contains: "at least one")
        assertConfigError("merge_method: linear\nmodels:\n  - model: a\n", key: "models[0].parameters.weight", contains: "needs a weight")
        assertConfigError("merge_method: ties\nmodels:\n  - model: a\n    parameters: {weight: 1}\n", key: "base_model", contains: "base")
        assertConfigError("merge_method: linear\nmodels:\n  - model: a\n    parameters: {wieght: 1}\n", key: "models[0].parameters.wieght", contains: "unknown parameter")
        assertConfigError("merge_method: linear\nmodels:\n  - model: a\n    parameters: {weight: 1}\nsubset: heads\n", key: "subset", contains: "attention_output")
        assertConfigError("merge_method: linear\nmodels:\n  - model: a\n    parameters: {weight: 1}\nslices: []\n", key: "slices", contains: "not supported")
        assertConfigError("merge_method: slerp\nbase_model: a\nmodels:\n  - model: a\n  - model: b\n", key: "parameters.t", contains: "t")
        assertConfigError("merge_method: linear\nmodels:\n  - model: a\n    parameters: {weight: 1}\ntop_model: z\n", key: "top_model", contains: "not one of")
        assertConfigError("merge_method: linear\nmodels:\n  - model: a\n    parameters: {weight: 1}\nsubset: {include: \"/[/\"}\n", key: "subset.include", contains: "regular expression")
        assertConfigError("merge_method: [", key: "(document)", contains: "YAML")
        assertConfigError("merge_method: linear\nmodels:\n  - model: a\n    parameters: {weight: 1}\n  - model: a\n    parameters: {weight: 2}\n", key: "models", contains: "twice")
    }

    func testParameterGradientInterpolatesLikeMergekit() {
        let g = ParameterSetting.gradient([0.2, 0.5, 0.8])
        XCTAssertEqual(g.evaluate(tensor: "x", t: 0)?.double, 0.2)
        XCTAssertEqual(g.evaluate(tensor: "x", t: 0.25)!.double!, 0.35, accuracy: 1e-12)
        XCTAssertEqual(g.evaluate(tensor: "x", t: 1)?.double, 0.8)
        XCTAssertEqual(LayerPosition.t(for: "encoder.layer.3.output.dense.weight", layerCount: 7), 0.5)
        XCTAssertEqual(LayerPosition.t(for: "embeddings.word_embeddings.weight", layerCount: 7), 0)
        XCTAssertEqual(LayerPosition.layerCount(names: ["encoder.layer.0.a", "encoder.layer.5.b", "pooler.c"]), 6)
    }

    func testSubsetsOnBertNames() {
        let q = "encoder.layer.2.attention.self.query.weight"
        let ao = "encoder.layer.2.attention.output.dense.bias"
        let aoLN = "encoder.layer.2.attention.output.LayerNorm.weight"
        let ffn = "encoder.layer.2.intermediate.dense.weight"
        let emb = "embeddings.word_embeddings.weight"
        let head = "classifier.weight", pooler = "bert.pooler.dense.weight"
        XCTAssertEqual([q, ao, aoLN, ffn, emb, head, pooler].map(ParameterSubset.attention.contains), [true, true, true, false, false, false, false])
        XCTAssertEqual([q, ao, aoLN, ffn, emb, head, pooler].map(ParameterSubset.attentionOutput.contains), [false, true, false, false, false, false, false])
        XCTAssertEqual([q, ao, aoLN, ffn, emb, head, pooler].map(ParameterSubset.allButClassifier.contains), [true, true, true, true, true, false, false])
        XCTAssertTrue([q, ao, aoLN, ffn, emb, head, pooler].allSatisfy(ParameterSubset.all.contains))
        XCTAssertTrue(ParameterSubset.attentionOutput.contains("model.layers.3.self_attn.o_proj.weight"))
    }

    func testSubsetIsCodableAsReadableJSON() throws {
        let s = ParameterSubset(.attention, include: [try NamePattern("/layer\\.[01]\\./")], exclude: [NamePattern(substring: "bias")])
        let data = try JSONEncoder().encode(s)
        XCTAssertTrue(String(decoding: data, as: UTF8.self).contains("\"\\/layer\\\\.[01]\\\\.\\/\""))
        XCTAssertEqual(try JSONDecoder().decode(ParameterSubset.self, from: data), s)
        XCTAssertEqual(s.description, "attention[+/layer\\.[01]\\./][-bias]")
    }
}
