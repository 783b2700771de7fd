import Foundation
import GuardData
import Runtime

/// The output of a run and its state file, append-only and crash-safe. A commit appends a batch's sample lines
/// (and disagreement lines) with one write each, syncs them, then replaces the state file atomically
/// (temp file + fsync + rename). Opening an output that has a state file resumes it: bytes past the committed
/// length (a batch cut short by a crash) are truncated, so every batch is in the output wholly or not at all.
public final class SynthesisLedger {
    public let outputPath: String
    public let statePath: String
    public let disagreementsPath: String
    public private(set) var state: SynthesisState
    /// Bytes cut from the output on opening (a batch a crash interrupted); 0 on a clean resume or a new run.
    public private(set) var truncatedBytes: UInt64 = 0
    /// Whether an earlier run's state was found.
    public let resumed: Bool
    private let output: FileHandle
    private let disagreements: FileHandle

    public static func statePath(for output: String) -> String { output + ".state.json" }
    public static func disagreementsPath(for output: String) -> String { output + ".disagreements.jsonl" }

    /// Opens or creates the output for a run whose `identity` decides the data (see `SynthesisState`).
    public init(outputPath: String, identity: String) throws {
        self.outputPath = outputPath
        statePath = Self.statePath(for: outputPath)
        disagreementsPath = Self.disagreementsPath(for: outputPath)
        let fingerprint = Runtime.SHA256.hex(Runtime.SHA256.hash(identity))
        let files = FileManager.default
        let directory = (outputPath as NSString).deletingLastPathComponent
        if !directory.isEmpty { try? files.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        // One writer per output: an exclusive lock on the output file itself, which the kernel drops when the
        // process dies (kill -9 included), taken before anything is read or cut.
        let outputExisted = files.fileExists(atPath: outputPath)
        let fd = open(outputPath, O_RDWR | O_CREAT, 0o644)
        guard fd >= 0 else { throw SynthesisError("\(outputPath): cannot open (\(String(cString: strerror(errno)))); is the directory writable?") }
        let out = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            throw SynthesisError("\(outputPath) is being written by another uniguard synthesize; wait for it to finish, or pass another --out")
        }
        output = out
        TemporaryPaths.sweepStale(beside: statePath)
        if files.fileExists(atPath: statePath) {
            let data = try Self.read(statePath)
            let loaded: SynthesisState
            do { loaded = try JSONDecoder().decode(SynthesisState.self, from: data) } catch {
                throw SynthesisError("\(statePath): not a synthesis state file (\(error)); it belongs to \(outputPath): if that output is not needed, delete both and start again")
            }
            guard loaded.version == SynthesisState.currentVersion else {
                throw SynthesisError("\(statePath): state format \(loaded.version), this uniguard reads \(SynthesisState.currentVersion)")
            }
            guard loaded.fingerprint == fingerprint else {
                throw SynthesisError("""
                \(outputPath) was started with other settings; resuming would mix two datasets.
                  then: \(loaded.identity)
                  now:  \(identity)
                Use the same --policy, --model, --seed and reflection settings to resume, or pass a new --out.
                """)
            }
            state = loaded
            resumed = true
            for (path, existed) in [(outputPath, outputExisted), (disagreementsPath, files.fileExists(atPath: disagreementsPath))] where !existed {
                if path == outputPath { try? files.removeItem(atPath: outputPath) }
                throw SynthesisError("\(path) is missing but \(statePath) records committed data in it; restore it, or delete \(statePath) to start over")
            }
        } else {
            for path in [outputPath, disagreementsPath] {
                if let size = try? files.attributesOfItem(atPath: path)[.size] as? UInt64, size > 0 {
                    throw SynthesisError("\(path) exists and has no state file \(statePath), so it is not a resumable synthesis output; pass a new --out or delete it")
                }
            }
            // Not the output: it is open and locked already, and createFile would replace it with a new file.
            guard files.createFile(atPath: disagreementsPath, contents: nil) else {
                throw SynthesisError("\(disagreementsPath): cannot create (is the directory writable?)")
            }
            state = SynthesisState(fingerprint: fingerprint, identity: identity)
            resumed = false
        }
        guard let dis = FileHandle(forUpdatingAtPath: disagreementsPath) else {
            throw SynthesisError("\(disagreementsPath): cannot open for appending")
        }
        disagreements = dis
        truncatedBytes = try Self.cut(out, to: state.outputBytes, path: outputPath, statePath: statePath)
        _ = try Self.cut(dis, to: state.disagreementBytes, path: disagreementsPath, statePath: statePath)
        if !resumed { try writeState() }
    }

    deinit {
        try? output.close()
        try? disagreements.close()
    }

    /// The committed samples (for rebuilding dedup state on resume).
    public func committedSamples() throws -> [Sample] {
        var out: [Sample] = []
        try SampleReader(path: outputPath, skipInvalid: false).forEachSample { out.append($0) }
        return out
    }

    /// The committed disagreements.
    public func committedDisagreements() throws -> [Disagreement] {
        let data = try Self.read(disagreementsPath)
        var out: [Disagreement] = []
        for (index, line) in data.split(separator: 0x0A).enumerated() where !line.isEmpty {
            do { out.append(try JSONDecoder().decode(Disagreement.self, from: Data(line))) } catch {
                throw SynthesisError("\(disagreementsPath):\(index + 1): not a disagreement line (\(error))")
            }
        }
        return out
    }

    /// Appends `samples` and `disagreements`, syncs, then records `update` in the state file.
    public func commit(samples: [Sample], disagreements found: [Disagreement], update: (inout SynthesisState) -> Void) throws {
        var bytes: [UInt8] = []
        for sample in samples { SampleCodec.encode(sample, into: &bytes); bytes.append(0x0A) }
        var notes = Data()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for d in found { notes.append(try encoder.encode(d)); notes.append(0x0A) }
        var next = state
        try append(Data(bytes), to: output, path: outputPath)
        try append(notes, to: disagreements, path: disagreementsPath)
        next.outputBytes += UInt64(bytes.count)
        next.disagreementBytes += UInt64(notes.count)
        update(&next)
        state = next
        try writeState()
    }

    /// Records a state change that writes no data (time spent, a finished run).
    public func record(_ update: (inout SynthesisState) -> Void) throws {
        update(&state)
        try writeState()
    }

    private func append(_ data: Data, to handle: FileHandle, path: String) throws {
        guard !data.isEmpty else { return }
        do {
            try handle.seekToEnd()
            try handle.write(contentsOf: data)
            try handle.synchronize()
        } catch {
            throw SynthesisError("\(path): write failed (\(error.localizedDescription)); committed samples are safe, run again to resume")
        }
    }

    private func writeState() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let data = try encoder.encode(state)
        let temporary = TemporaryPaths.path(for: statePath)
        TemporaryPaths.register(temporary)
        defer { TemporaryPaths.unregister(temporary) }
        guard FileManager.default.createFile(atPath: temporary, contents: data), let handle = FileHandle(forWritingAtPath: temporary) else {
            throw SynthesisError("\(statePath): cannot write the state file (is the directory writable?)")
        }
        try? handle.synchronize()
        try? handle.close()
        // Inside `critical`, so Ctrl-C's cleanup waits for the rename instead of deleting the file mid-way.
        let failure: String? = TemporaryPaths.critical {
            guard rename(temporary, statePath) == 0 else {
                let reason = String(cString: strerror(errno))
                try? FileManager.default.removeItem(atPath: temporary)
                return reason
            }
            return nil
        }
        if let failure { throw SynthesisError("\(statePath): cannot move the state file into place: \(failure)") }
    }

    private static func read(_ path: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: path) else { throw SynthesisError("\(path): cannot read") }
        return data
    }

    /// Truncates `handle` to the committed length; returns the bytes cut.
    private static func cut(_ handle: FileHandle, to committed: UInt64, path: String, statePath: String) throws -> UInt64 {
        let size = try handle.seekToEnd()
        guard size >= committed else {
            throw SynthesisError("\(path) has \(size) bytes but \(statePath) records \(committed) committed: it was cut or edited; restore it, or delete both to start over")
        }
        if size > committed { try handle.truncate(atOffset: committed) }
        return size - committed
    }
}

/// A synthesis run cannot go on; says why and what to do.
public struct SynthesisError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
