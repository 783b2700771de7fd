import Foundation

/// Streams samples from a JSONL file one line at a time (flat memory for million-line corpora).
/// Strict by default: the first bad line throws a `SampleError` naming file, line and field.
/// With `skipInvalid`, bad lines are counted (and the first few kept) instead; blank lines are ignored.
public final class SampleReader: Sequence, IteratorProtocol {
    /// The file being read.
    public var path: String { lines.path }
    /// 1-based line number of the sample most recently returned (for errors about a valid-JSON line).
    public var lineNumber: Int { lines.lineNumber }
    /// Whether invalid lines are skipped rather than thrown.
    public let skipInvalid: Bool
    /// Number of lines skipped as invalid so far.
    public private(set) var skippedCount = 0
    /// The first `maxRecordedErrors` skipped lines' errors, for the report.
    public private(set) var skippedErrors: [SampleError] = []
    /// Number of samples returned so far.
    public private(set) var sampleCount = 0
    /// Error that ended iteration through `Sequence` (strict mode); check it after a `for` loop.
    public private(set) var error: SampleError?

    private let lines: LineReader
    private let maxRecordedErrors: Int

    public init(path: String, skipInvalid: Bool = false, maxRecordedErrors: Int = 10) throws {
        lines = try LineReader(path: path)
        self.skipInvalid = skipInvalid
        self.maxRecordedErrors = maxRecordedErrors
    }

    /// The next valid sample, nil at end of file; throws on the first bad line unless skipping.
    public func nextSample() throws -> Sample? {
        while let bytes = try lines.nextLine() {
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            do {
                let sample = try SampleCodec.decode(bytes, path: lines.path, line: lines.lineNumber)
                sampleCount += 1
                return sample
            } catch let bad as SampleError {
                guard skipInvalid else { throw bad }
                skippedCount += 1
                if skippedErrors.count < maxRecordedErrors { skippedErrors.append(bad) }
            }
        }
        return nil
    }

    /// `IteratorProtocol`: stops at the end or at the first error (kept in `error`).
    public func next() -> Sample? {
        guard error == nil else { return nil }
        do { return try nextSample() } catch let bad as SampleError {
            error = bad
            return nil
        } catch {
            self.error = SampleError(path: path, line: lines.lineNumber, field: nil, problem: "\(error)")
            return nil
        }
    }

    /// Calls `body` for every sample; rethrows the reader's or the body's first error.
    public func forEachSample(_ body: (Sample) throws -> Void) throws {
        while let sample = try nextSample() { try body(sample) }
    }

    /// Human summary of skipped lines (empty when none): the count, then the first errors.
    public var skipReport: String {
        guard skippedCount > 0 else { return "" }
        var text = "skipped \(skippedCount) invalid line\(skippedCount == 1 ? "" : "s") in \(path)"
        for bad in skippedErrors { text += "\n  \(bad)" }
        if skippedCount > skippedErrors.count { text += "\n  … and \(skippedCount - skippedErrors.count) more" }
        return text
    }

    /// Reads a whole (small) file into memory; for big corpora iterate with `nextSample()` instead.
    public static func readAll(path: String, skipInvalid: Bool = false) throws -> [Sample] {
        let reader = try SampleReader(path: path, skipInvalid: skipInvalid)
        var samples: [Sample] = []
        try reader.forEachSample { samples.append($0) }
        return samples
    }
}
