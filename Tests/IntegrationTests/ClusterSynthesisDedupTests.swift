@testable import Cluster
import EncoderModel
import Foundation
import GuardData
import LLMStandIn
import TestHelpers
import XCTest

/// `kind: synthesize` jobs with embedding near-duplicate filtering (done by the coordinator with the real
/// all-MiniLM-L6-v2) and `refine_policy`, with real coordinator and worker processes against the LLM stand-in.
final class ClusterSynthesisDedupTests: ClusterSynthesisTestCase {
    /// The stand-in's repeated question, as it writes it for a policy and label (`StandInContent.generate`).
    private func usualQuestion(_ policyID: String, _ label: SafetyLabel, ending: String) throws -> String {
        let path = ClusterBinaries.packageRoot.appendingPathComponent("policies/\(policyID).yaml").path
        let policy = try PolicyParser.load(path: path)
        return "[stand-in \(label.rawValue)] The usual question about \(policy.name) (id: \(policy.id)), \(ending)"
    }

    /// The stand-in rewords its repeated question per batch (near duplicates, never exact ones) and two workers run the
    /// batches; the coordinator is killed (-9) halfway and restarted. It drops every near duplicate whichever worker's
    /// batch it came in and on whichever side of the restart (the window is rebuilt from the accepted samples), counts
    /// them in status, and the output keeps one of each (policy, label)'s question, exactly `count` samples, none twice.
    func testNearDuplicatesFromTwoWorkersAreDroppedCentrallyAcrossARestart() async throws {
        _ = try TestSupport.baseModel() // the coordinator embeds with it
        var behaviour = StandInBehaviour()
        behaviour.repeatOneIn = 2
        behaviour.rewordRepeats = true
        behaviour.every = [(n: 1, fault: .slow(seconds: 0.2))]
        let s = try await start(behaviour)
        let c = try TestCluster(name: "synth-near")
        cluster = c
        do {
            try c.startCoordinator()
            try c.startWorker("w1", slots: 1)
            try c.startWorker("w2", slots: 1)
            try waitUntil("both workers registered", timeout: 30, every: 0.1) { try c.workerIDs() == ["w1", "w2"] }
            let job = try c.submit(try writeJob(c, endpoint: s.endpoint, count: 4, batch: 2, concurrency: 1))
            try waitUntil("a few batches committed", timeout: 60, every: 0.2) { (try c.job(job)["batches_done"] as? Int ?? 0) >= 4 }
            let first = c.coordinator!
            first.kill9()
            try c.startCoordinator(bind: c.endpoint)
            let finished = try c.waitForJob(job, timeout: 120)
            XCTAssertEqual(finished["state"] as? String, "done", "\(finished)")
            let output = "\(c.root)/out/samples.jsonl"
            try assertExactOutput(output, count: 4)
            // One of each (policy, label)'s reworded question survives.
            let family = try samples(output).filter { $0.prompt.contains("The usual question about") }
            let perGroup = Dictionary(grouping: family, by: { "\($0.policy)/\($0.label.rawValue)" })
            XCTAssertFalse(perGroup.isEmpty)
            XCTAssertTrue(perGroup.values.allSatisfy { $0.count == 1 }, "\(perGroup.mapValues { $0.map(\.prompt) })")
            // Counted: every generated prompt is accepted, an exact or near duplicate, or surplus.
            XCTAssertGreaterThan(finished["near_duplicates"] as? Int ?? 0, 0, "\(finished)")
            for p in finished["policies"] as? [[String: Any]] ?? [] {
                let parts = ["accepted", "duplicates", "near_duplicates", "surplus"].map { p[$0] as? Int ?? 0 }
                XCTAssertEqual(p["generated"] as? Int, parts.reduce(0, +), "\(p)")
            }
            XCTAssertEqual((finished["embedding_dedup"] as? [String: Any])?["window"] as? Int, 1024)
            // Both workers' batches made the output; after the restart the rebuilt window still caught near duplicates.
            let logs = first.log + c.coordinator!.log
            XCTAssertTrue(logs.contains("from w1:") && logs.contains("from w2:"), logs)
            let restarted = c.coordinator!.log
            XCTAssertTrue(restarted.contains("rebuilding the near-duplicate window from"), restarted)
            XCTAssertNotNil(restarted.range(of: #"from w[12]: \d+ accepted, \d+ duplicates, [1-9]\d* near duplicates"#, options: .regularExpression), restarted)
            let text = try c.client(["status", job]).out
            XCTAssertTrue(text.contains("NEAR-DUPS") && text.contains("near duplicates \(finished["near_duplicates"] as? Int ?? -1)"), text)
        } catch {
            XCTFail("\(error)\n\(c.logs)")
        }
    }

    /// A registered worker sends near-paraphrases of the stand-in's repeated question in every way a result can fail to
    /// count (too many samples, a stale attempt, an extra frame posing as vectors, a task it no longer holds). Had any of
    /// it reached the window, the honest worker's own copy of the question would be dropped as a near duplicate; it is
    /// kept, and none of the liar's text is.
    func testLyingWorkerCannotMakeHonestSamplesBeDropped() async throws {
        var behaviour = StandInBehaviour()
        behaviour.repeatOneIn = 2
        // No relabelling: an unsafe question relabelled safe would be a near duplicate of the safe one, by right.
        behaviour.disagreeOneIn = 0
        let s = try await start(behaviour)
        let c = try TestCluster(name: "synth-near-liar")
        cluster = c
        do {
            // The liar's texts really are near duplicates of the honest question under the coordinator's encoder.
            let embedder = try SentenceEmbedder(directory: try TestSupport.baseModel(), maxLength: 128)
            let honest = try usualQuestion("safety", .unsafe, ending: "once more.")
            let lie = try usualQuestion("safety", .unsafe, ending: "one more time.")
            let rows = try embedder.embed([honest, lie])
            let cosine = (0..<embedder.dimension).reduce(Float(0)) { $0 + rows.data[$1] * rows.data[embedder.dimension + $1] }
            XCTAssertGreaterThanOrEqual(cosine, 0.95)

            try c.startCoordinator()
            let job = try c.submit(try writeJob(c, endpoint: s.endpoint, count: 2, batch: 2, concurrency: 2))
            let liar = try FakeWorker("liar", endpoint: c.endpoint)
            try liar.register(slots: 2)
            let first = try liar.nextAssignment()
            let second = try liar.nextAssignment()
            var lies: [String] = []
            func lines(_ a: Uniguard_V1_TaskAssignment, _ n: Int) throws -> [String] {
                let task = a.synthBatch
                let label = SafetyLabel(rawValue: task.label)!
                let endings = ["one more time.", "yet again.", "again, please."]
                return try (0..<n).map { i in
                    let prompt = try usualQuestion(task.policyID, label, ending: endings[i % endings.count])
                    lies.append(prompt)
                    return SampleCodec.encode(Sample(policy: task.policyID, prompt: prompt, rationale: "made up", label: label,
                                                     source: "synth:stand-in#\(task.policyID)/\(task.label)/\(task.sequence)"))
                }
            }
            func send(_ a: Uniguard_V1_TaskAssignment, attempt: UInt32, lines: [String], extraFrames: [Data] = []) throws {
                var r = Uniguard_V1_SynthBatchResult()
                r.accepted = UInt32(lines.count)
                r.generated = UInt32(lines.count)
                var result = Uniguard_V1_TaskResult()
                result.taskID = a.taskID
                result.attempt = attempt
                result.synthBatch = r
                try liar.send(.taskResult(result), rawFrames: [Data(lines.map { $0 + "\n" }.joined().utf8)] + extraFrames)
            }
            try send(first, attempt: first.attempt, lines: try lines(first, 3))
            try send(second, attempt: second.attempt + 1, lines: try lines(second, 2))
            // "Vectors" for its prompts: the honest question's own embedding, twice.
            let vectors = Data(buffer: UnsafeBufferPointer(start: rows.data, count: embedder.dimension)) + Data(buffer: UnsafeBufferPointer(start: rows.data, count: embedder.dimension))
            try send(second, attempt: second.attempt, lines: try lines(second, 2), extraFrames: [vectors])
            try liar.waitUntil("the lies rejected") {
                let log = c.coordinator!.log
                return log.contains("in a batch of 2; result rejected") && log.contains("the lease was granted again since")
                    && log.contains("expected one JSONL frame")
            }
            try send(first, attempt: first.attempt, lines: try lines(first, 2))
            liar.held.removeAll()
            try liar.goodbye()
            try c.startWorker("honest", slots: 2)
            let finished = try c.waitForJob(job, timeout: 120)
            XCTAssertEqual(finished["state"] as? String, "done", "\(finished)")
            let output = "\(c.root)/out/samples.jsonl"
            try assertExactOutput(output, count: 2)
            let prompts = Set(try samples(output).map(\.prompt))
            XCTAssertTrue(prompts.isDisjoint(with: lies), "\(prompts.intersection(lies))")
            // The honest question of both groups the liar lied about is kept.
            for label in [SafetyLabel.unsafe, .safe] {
                let question = try usualQuestion("safety", label, ending: "once more.")
                XCTAssertTrue(prompts.contains(question), "\(question) was dropped:\n\(prompts.sorted().joined(separator: "\n"))")
            }
            XCTAssertTrue(c.coordinator!.isRunning)
        } catch {
            XCTFail("\(error)\n\(c.logs)")
        }
    }

    /// `refine_policy: true`: after the samples, a worker asks the stand-in for a revision of each policy from its
    /// disagreements; the coordinator writes it beside the output as `<output>.<policy>.suggested`, a valid policy with
    /// the same id under a header, and the policies themselves are untouched.
    func testRefinePolicyWritesTheSuggestionBesideTheOutput() async throws {
        var behaviour = StandInBehaviour()
        behaviour.disagreeOneIn = 3
        let s = try await start(behaviour)
        let c = try TestCluster(name: "synth-refine")
        cluster = c
        do {
            try c.startCoordinator()
            try c.startWorker("w1", slots: 2)
            let job = try c.submit(try writeJob(c, endpoint: s.endpoint, count: 4, batch: 4, extra: "embedding_dedup: false\nrefine_policy: true"))
            let policyFile = "\(c.root)/jobs/policies/tax_advice.yaml"
            let policyBefore = try Data(contentsOf: URL(fileURLWithPath: policyFile))
            let finished = try c.waitForJob(job, timeout: 120)
            XCTAssertEqual(finished["state"] as? String, "done", "\(finished)")
            XCTAssertTrue(finished["message"] is NSNull, "\(finished)")
            try assertExactOutput("\(c.root)/out/samples.jsonl", count: 4)
            let refinements = finished["refinements"] as? [[String: Any]] ?? []
            XCTAssertEqual(refinements.map { $0["policy"] as? String }, ["safety", "tax_advice"])
            for r in refinements {
                let policy = r["policy"] as? String ?? ""
                XCTAssertEqual(r["state"] as? String, "written", "\(r)")
                let expected = "\(c.root)/out/samples.jsonl.\(policy).suggested"
                XCTAssertEqual((r["path"] as? String).map { URL(fileURLWithPath: $0).standardizedFileURL.path }, URL(fileURLWithPath: expected).standardizedFileURL.path)
                let text = try String(contentsOfFile: expected, encoding: .utf8)
                XCTAssertTrue(text.hasPrefix("# Suggested revision of policy \(policy) by stand-in (coordinator job \(job), refine_policy)"), text)
                XCTAssertTrue(text.contains("[stand-in revision]"), text)
                XCTAssertEqual(try PolicyParser.parse(yaml: text, path: expected).id, policy)
                // The stand-in's critique counts the disagreements it was shown: the ones the job kept for this policy.
                let shown = min(r["disagreements"] as? Int ?? 0, 40)
                XCTAssertGreaterThan(shown, 0)
                XCTAssertTrue(text.contains("# Critique: [stand-in critique] \(shown) disagreements"), text)
            }
            XCTAssertEqual(s.requests.filter { $0.task == "refine" }.count, 2)
            // The policies are untouched and nothing was written beside them.
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: policyFile)), policyBefore)
            let beside = try FileManager.default.contentsOfDirectory(atPath: "\(c.root)/jobs/policies")
            XCTAssertEqual(beside, ["tax_advice.yaml"])
            let bundled = try FileManager.default.contentsOfDirectory(atPath: ClusterBinaries.packageRoot.appendingPathComponent("policies").path)
            XCTAssertFalse(bundled.contains { $0.contains("suggested") }, "\(bundled)")
            // The key went from the worker's environment to the stand-in only.
            let database = try Data(contentsOf: URL(fileURLWithPath: "\(c.root)/var/coordinator.sqlite"))
            XCTAssertNil(database.range(of: Data(Self.key.utf8)))
            XCTAssertFalse(c.coordinator!.log.contains(Self.key))
            let text = try c.client(["status", job]).out
            XCTAssertTrue(text.contains("refine tax_advice: written"), text)
        } catch {
            XCTFail("\(error)\n\(c.logs)")
        }
    }
}
