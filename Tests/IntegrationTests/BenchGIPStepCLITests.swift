import Foundation
import TestHelpers
import XCTest

/// `uniguard bench gip-step` as bench/gipstep runs it: bad shapes and counts are usage errors naming the option,
/// and a tiny run (tiny BERT) times real GIP steps and reports them as one JSON line.
final class BenchGIPStepCLITests: XCTestCase {
    func testOptionsOutOfRangeAreUsageErrors() throws {
        let cli = try TinyGuardCLI(self)
        let cases: [(String, String)] = [("--batch", "0"), ("--batch", "-2"), ("--batch", "100000"), ("--seq", "0"), ("--seq", "2"),
                                         ("--seq", "1000000"), ("--steps", "0"), ("--steps", "-1"), ("--steps", "9999999999"),
                                         ("--warmup", "-1"), ("--threads", "0")]
        for (option, value) in cases {
            let run = try cli.run(["bench", "gip-step", "--model", cli.base, "\(option)=\(value)"])
            run.assertUsageError(naming: option, usage: "Usage: uniguard bench gip-step")
        }
        // Longer than the model's positions (the tiny BERT has 40): refused before any step, naming the limit.
        let long = try cli.run(["bench", "gip-step", "--model", cli.base, "--seq", "41", "--json"])
        long.assertUsageError(naming: "--seq must be at most 40", usage: "")
        XCTAssertTrue(long.out.isEmpty, long.out)
    }

    func testTinyRunReportsTimedStepsAsJSON() throws {
        let cli = try TinyGuardCLI(self)
        let run = try cli.run(["bench", "gip-step", "--model", cli.base, "--batch", "3", "--seq", "24", "--steps", "3", "--warmup", "1",
                               "--threads", "1", "--json"])
        XCTAssertEqual(run.status, 0, run.err)
        let lines = run.out.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, run.out)
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data((lines.last ?? "").utf8)) as? [String: Any], run.out)
        XCTAssertEqual(obj["benchmark"] as? String, "gip-step")
        XCTAssertEqual(obj["batch"] as? Int, 3)
        XCTAssertEqual(obj["seq"] as? Int, 24)
        XCTAssertEqual(obj["threads"] as? Int, 1)
        XCTAssertEqual(obj["steps_timed"] as? Int, 3)
        XCTAssertEqual(obj["skipped_steps"] as? Int, 0, "every tiny step is finite")
        let step = try XCTUnwrap(obj["step_ms"] as? [String: Any])
        XCTAssertEqual(step["n"] as? Int, 3)
        let median = try XCTUnwrap(step["median_ms"] as? Double)
        XCTAssertGreaterThan(median, 0)
        let perSecond = try XCTUnwrap(obj["samples_per_s"] as? Double)
        // samples/s is batch over the mean step time, so it sits between batch/max and batch/min.
        let lo = try XCTUnwrap(step["min_ms"] as? Double), hi = try XCTUnwrap(step["max_ms"] as? Double)
        XCTAssertGreaterThanOrEqual(perSecond, 3 / (hi / 1000) * 0.99)
        XCTAssertLessThanOrEqual(perSecond, 3 / (lo / 1000) * 1.01)
        XCTAssertEqual(try XCTUnwrap(obj["tokens_per_s"] as? Double), perSecond * 24, accuracy: perSecond * 24 * 0.01)
        XCTAssertGreaterThan(try XCTUnwrap(obj["peak_rss_mib"] as? Double), 0)
        XCTAssertGreaterThan(try XCTUnwrap(obj["trainable_params"] as? Int), 0)
        // Every term of the objective ran: the adversarial and consistency terms are those of Alice++.
        let loss = try XCTUnwrap(obj["loss_last"] as? [String: Any])
        for term in ["total", "classification", "adversarial", "consistency"] {
            let v = try XCTUnwrap(loss[term] as? Double, term)
            XCTAssertTrue(v.isFinite && v >= 0, "\(term) = \(v)")
        }
        XCTAssertGreaterThan(try XCTUnwrap(loss["classification"] as? Double), 0)
        XCTAssertGreaterThan(try XCTUnwrap(obj["masked_tokens_last"] as? Int), 0, "66 maskable tokens at 15%: the MLM term ran")

        // Without --json: one human line with the same figures.
        let human = try cli.run(["bench", "gip-step", "--model", cli.base, "--batch", "2", "--seq", "8", "--steps", "1", "--warmup", "0",
                                 "--threads", "1"])
        XCTAssertEqual(human.status, 0, human.err)
        XCTAssertTrue(human.out.hasPrefix("GIP step 2x8, 1 threads: ") && human.out.contains("samples/s"), human.out)
    }
}
