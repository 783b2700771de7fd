/// Writes samples as JSONL; the file appears atomically on `close()` (see `JSONLinesFile`), so an interrupted
/// import never leaves a truncated corpus that looks complete.
public final class SampleWriter {
    private let file: JSONLinesFile
    /// Destination path (`-` writes to standard output).
    public var path: String { file.path }
    /// Samples written so far.
    public var count: Int { file.count }

    public init(path: String) throws { file = try JSONLinesFile(path: path) }

    /// Appends one sample line.
    public func write(_ sample: Sample) throws { try file.append { SampleCodec.encode(sample, into: &$0) } }

    /// Appends many samples.
    public func write<S: Sequence>(contentsOf samples: S) throws where S.Element == Sample {
        for sample in samples { try write(sample) }
    }

    /// Flushes and publishes the file under its final name.
    public func close() throws { try file.close() }
}
