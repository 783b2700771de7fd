/// Writes corpus records as JSONL; the file appears atomically on `close()` and a failed build leaves no file
/// (see `JSONLinesFile`).
public final class CorpusWriter {
    private let file: JSONLinesFile
    /// Destination path (`-` writes to standard output).
    public var path: String { file.path }
    /// Records written so far.
    public var count: Int { file.count }

    public init(path: String) throws { file = try JSONLinesFile(path: path) }

    /// Appends one record line.
    public func write(_ record: CorpusRecord) throws { try file.append { CorpusCodec.encode(record, into: &$0) } }

    /// Flushes and publishes the file under its final name.
    public func close() throws { try file.close() }
}
