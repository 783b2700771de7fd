import Foundation

/// Renders the status JSON as tables for people (the JSON itself is what `--json` prints).
enum StatusFormatter {
    static func render(json: String) -> String {
        guard let doc = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] else { return json }
        let now = Date().timeIntervalSince1970 * 1000
        var out: [String] = []
        if let c = doc["coordinator"] as? [String: Any] {
            let up = (now - (c["started_unix_ms"] as? Double ?? now)) / 1000
            out.append("coordinator \(c["endpoint"] ?? "?")  session \(c["session"] ?? "?")  up \(duration(up))  curve \((c["curve"] as? Bool ?? false) ? "on" : "off")")
        }
        let workers = doc["workers"] as? [[String: Any]] ?? []
        out.append("")
        out.append("WORKERS (\(workers.count))")
        if !workers.isEmpty {
            var rows = [["ID", "STATE", "HOST", "SLOTS", "RUNNING", "LOAD", "LAST HEARTBEAT", "BLAS"]]
            for w in workers {
                rows.append([text(w["id"]), text(w["state"] ?? "active"), text(w["hostname"]), text(w["slots"]), text(w["running"]),
                             String(format: "%.2f", w["load"] as? Double ?? 0),
                             "\(Int(w["last_heartbeat_ms_ago"] as? Double ?? 0)) ms ago", text(w["blas_core"])])
            }
            out += table(rows)
        }
        let jobs = doc["jobs"] as? [[String: Any]] ?? []
        out.append("")
        out.append("JOBS (\(jobs.count))")
        if !jobs.isEmpty {
            var rows = [["ID", "NAME", "STATE", "PROGRESS", "IN FLIGHT", "BEST F1", "STRATEGY"]]
            for j in jobs {
                if j["steps"] != nil {
                    // A training job: steps instead of arms, its generation instead of arms in flight.
                    rows.append([text(j["id"]), text(j["name"]), text(j["state"]), "\(text(j["step"]))/\(text(j["steps"])) steps",
                                 "gen \(text(j["generation"]))", "-", text(j["kind"])])
                    continue
                }
                if j["kind"] as? String == "synthesize" {
                    rows.append([text(j["id"]), text(j["name"]), text(j["state"]), "\(text(j["accepted"]))/\(text(j["target"])) samples",
                                 "\(text(j["batches_in_flight"])) batches", "-", "synthesize"])
                    continue
                }
                rows.append([text(j["id"]), text(j["name"]), text(j["state"]),
                             "\(text(j["arms_done"]))/\(text(j["iterations"]))", text(j["arms_in_flight"]),
                             (j["best_f1"] as? Double).map { String(format: "%.4f", $0) } ?? "-", text(j["strategy"])])
            }
            out += table(rows)
        }
        for j in jobs where j["steps"] != nil { out += training(j) }
        for j in jobs where j["kind"] as? String == "synthesize" { out += synthesis(j) }
        for j in jobs {
            if let message = j["message"] as? String { out.append("\(text(j["id"])): \(message)") }
            if j["steps"] != nil || j["kind"] as? String == "synthesize" { continue }
            if let waiting = j["tasks_waiting_for_another_worker"] as? Int, waiting > 0 {
                out.append("\(text(j["id"])): \(waiting) failed tasks wait for a worker that has not failed them")
            }
            if let path = j["export_path"] as? String { out.append("\(text(j["id"])): best arm exported to \(path)") }
            if let means = j["posterior_means"] as? [String: Double], !means.isEmpty {
                out.append("")
                out.append("POSTERIOR MEANS \(text(j["id"]))")
                out += table([["COMPONENT", "MEAN"]] + means.keys.sorted().map { [$0, String(format: "%.3f", means[$0]!)] })
            }
            guard let history = j["history"] as? [[String: Any]], !history.isEmpty else { continue }
            out.append("")
            out.append("HISTORY \(text(j["id"]))")
            var rows = [["ITER", "ARM", "STATE", "METHOD", "SUBSET", "WEIGHTS", "F1", "WORKERS"]]
            let sorted = history.sorted { ($0["iteration"] as? Int ?? Int.max, $0["arm"] as? Int ?? 0) < ($1["iteration"] as? Int ?? Int.max, $1["arm"] as? Int ?? 0) }
            for h in sorted {
                let weights = (h["weights"] as? [Double] ?? []).map { String(format: "%.2f", $0) }.joined(separator: " ")
                rows.append([h["iteration"].map { text($0) } ?? "-", text(h["arm"]), text(h["state"]), text(h["method"]),
                             text(h["subset"]), weights, (h["f1"] as? Double).map { String(format: "%.4f", $0) } ?? "-",
                             (h["workers"] as? [String] ?? []).joined(separator: ",")])
            }
            out += table(rows)
        }
        return out.joined(separator: "\n")
    }

    /// A training job's block: step, losses, throughput, ETA, generation and ranks, last checkpoint.
    static func training(_ j: [String: Any]) -> [String] {
        func number(_ v: Any?, _ format: String = "%.4f") -> String { (v as? Double).map { String(format: format, $0) } ?? "-" }
        var out = ["", "TRAINING \(text(j["id"])) (\(text(j["kind"]))): \(text(j["state"]))"]
        var line = "  step \(text(j["step"]))/\(text(j["steps"]))  loss \(number(j["loss"]))"
        if let l = j["losses"] as? [String: Any], l["mlm"] != nil {
            line += " (mlm \(number(l["mlm"])), cls \(number(l["classification"])), adv \(number(l["adversarial"])), kl \(number(l["consistency"])))"
        }
        line += "  \(number(j["samples_per_second"], "%.1f")) samples/s  \(number(j["tokens_per_second"], "%.0f")) tokens/s"
        line += "  ETA \((j["eta_seconds"] as? Double).map { duration($0) } ?? "-")"
        out.append(line)
        let checkpoint = (j["last_checkpoint"] as? [String: Any]).map { "step \(text($0["step"])) (generation \(text($0["generation"])))" } ?? "none"
        // Between generations a running job waits for workers; a finished one waits for nothing.
        let waiting = !(j["generation_running"] as? Bool ?? false) && text(j["state"]) == "running"
        out.append("  generation \(text(j["generation"]))\(waiting ? " (waiting for \(text(j["workers_required"])) free workers)" : "")  last committed checkpoint \(checkpoint)  output \(text(j["output"]))")
        let ranks = j["workers"] as? [[String: Any]] ?? []
        if !ranks.isEmpty {
            var rows = [["RANK", "WORKER", "LAST STEP", "LAST STEP AGO", "STEP MS", "ALL-REDUCE MS"]]
            for r in ranks {
                rows.append([text(r["rank"]), text(r["id"]), text(r["last_step"]),
                             (r["last_step_ms_ago"] as? Double).map { "\(Int($0)) ms" } ?? "-", number(r["step_ms"], "%.0f"),
                             number(r["allreduce_ms"], "%.0f")])
            }
            out += table(rows)
        }
        return out
    }

    /// A synthesize job's block: samples and batches, per policy what was accepted and what not, requests and tokens.
    static func synthesis(_ j: [String: Any]) -> [String] {
        let phase = j["phase"] as? String == "refining" ? " (refining policies)" : ""
        var out = ["", "SYNTHESIS \(text(j["id"])) (\(text(j["model"])) at \(text(j["endpoint"]))): \(text(j["state"]))\(phase)"]
        out.append("  \(text(j["accepted"]))/\(text(j["target"])) samples  batches \(text(j["batches_done"]))/\(text(j["batches_total"])) done, \(text(j["batches_in_flight"])) in flight\((j["batches_being_embedded"] as? Int ?? 0) > 0 ? " (\(text(j["batches_being_embedded"])) being embedded)" : "")  duplicates \(text(j["duplicates"]))  near duplicates \(j["embedding_dedup"] is NSNull ? "off" : text(j["near_duplicates"]))  rejected \(text(j["rejected"]))")
        out.append("  \(text(j["requests"])) requests (\(text(j["retries"])) retries)  tokens \(text(j["prompt_tokens"])) prompt + \(text(j["completion_tokens"])) completion  output \(text(j["output"]))")
        if let waiting = j["tasks_waiting_for_another_worker"] as? Int, waiting > 0 {
            out.append("  \(waiting) failed batches wait for a worker that has not failed them")
        }
        var rows = [["POLICY", "UNSAFE", "SAFE", "GENERATED", "DUPLICATES", "NEAR-DUPS", "SURPLUS", "RELABELLED", "REJECTED", "BATCHES"]]
        for p in j["policies"] as? [[String: Any]] ?? [] {
            rows.append([text(p["policy"]), text(p["accepted_unsafe"]), text(p["accepted_safe"]), text(p["generated"]), text(p["duplicates"]),
                         text(p["near_duplicates"]), text(p["surplus"]), text(p["relabelled"]), text(p["rejected"]), text(p["batches"])])
        }
        out += table(rows)
        for r in j["refinements"] as? [[String: Any]] ?? [] {
            let detail = r["path"] is String ? "suggestion \(text(r["path"]))" : r["message"] is String ? text(r["message"]) : ""
            out.append("  refine \(text(r["policy"])): \(text(r["state"])) (\(text(r["disagreements"])) disagreements, \(text(r["requests"])) requests) \(detail)")
        }
        return out
    }

    /// True when every job in the document has finished (for `status JOB --watch`).
    static func allJobsTerminal(json: String) -> Bool {
        guard let doc = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any],
              let jobs = doc["jobs"] as? [[String: Any]] else { return true }
        return jobs.allSatisfy { ["done", "cancelled", "failed"].contains($0["state"] as? String ?? "") }
    }

    private static func text(_ value: Any?) -> String {
        switch value {
        case let s as String: s
        case let n as NSNumber: n.stringValue
        case nil: "-"
        default: "\(value!)"
        }
    }

    private static func duration(_ seconds: Double) -> String {
        let s = Int(max(seconds, 0))
        return s < 60 ? "\(s)s" : s < 3600 ? "\(s / 60)m\(s % 60)s" : "\(s / 3600)h\(s / 60 % 60)m"
    }

    private static func table(_ rows: [[String]]) -> [String] {
        let widths = (0..<(rows.first?.count ?? 0)).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            "  " + row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
    }
}
