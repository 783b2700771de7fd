import GuardData

/// Loads one policy's samples from a JSONL file.
enum PolicyData {
    static func samples(path: String, policy: String, skipInvalid: Bool) throws -> [Sample] {
        let reader = try SampleReader(path: path, skipInvalid: skipInvalid)
        var out: [Sample] = []
        try reader.forEachSample { if $0.policy == policy { out.append($0) } }
        if reader.skippedCount > 0 { note(reader.skipReport) }
        return out
    }
}
