@testable import Cluster
import Foundation
import Runtime
import TestHelpers
@testable import Worker
import XCTest

/// The worker's content-addressed cache: hash checks on arrival, model directories from blobs or a shared
/// path, validation shards checked against the coordinator's plan.
final class BlobCacheTests: XCTestCase {
    var root: URL!
    var cache: BlobCache!

    override func setUpWithError() throws {
        root = TestSupport.tempDir()
        cache = try BlobCache(root: root.appendingPathComponent("cache").path)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: root) }

    /// Writes `bytes` as the partial download of `hash`.
    func arrive(_ bytes: [UInt8], as hash: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: cache.partialPath(hash)))
    }

    func testAVerifiedBlobIsCommittedIntoTheCache() throws {
        let bytes = Array("weights".utf8), hash = SHA256.hex(SHA256.hash(bytes))
        try arrive(bytes, as: hash)
        try cache.commit(hash: hash)
        XCTAssertTrue(cache.has(hash))
        XCTAssertEqual(FileManager.default.contents(atPath: cache.path(hash)), Data(bytes))
        XCTAssertFalse(FileManager.default.fileExists(atPath: cache.partialPath(hash)), "the partial file moved")
        XCTAssertEqual(cache.cachedHashes(), [hash])
    }

    func testACorruptedBlobIsDroppedSoItIsFetchedAgain() throws {
        let hash = SHA256.hex(SHA256.hash(Array("weights".utf8)))
        try arrive(Array("weighs".utf8), as: hash)
        XCTAssertThrowsError(try cache.commit(hash: hash)) { error in
            XCTAssertTrue("\(error)".contains("arrived corrupted"), "\(error)")
            XCTAssertTrue("\(error)".contains("fetched again"), "\(error)")
        }
        XCTAssertFalse(cache.has(hash), "never cached under a hash it does not have")
        XCTAssertFalse(FileManager.default.fileExists(atPath: cache.partialPath(hash)), "the bad bytes are gone")
        // The next download starts clean and commits.
        try arrive(Array("weights".utf8), as: hash)
        try cache.commit(hash: hash)
        XCTAssertTrue(cache.has(hash))
    }

    /// A two-file model directory on "the coordinator's" disk and its blob set.
    func model() throws -> (dir: URL, set: ModelBlobSet, contents: [String: Data]) {
        let dir = root.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let contents = ["model.safetensors": Data("tensors".utf8), "config.json": Data("{}".utf8)]
        for (name, data) in contents { try data.write(to: dir.appendingPathComponent(name)) }
        return (dir, try ModelBlobSet.describe(directory: dir.path), contents)
    }

    func testModelsAreRebuiltFromBlobsWhenNoSharedPathIsUsable() throws {
        var (_, set, contents) = try model()
        set.path = root.appendingPathComponent("elsewhere").path  // not on this machine
        XCTAssertEqual(cache.missing(set).map(\.name).sorted(), ["config.json", "model.safetensors"])
        XCTAssertThrowsError(try cache.materialize(set), "blobs not cached yet")
        for file in set.files {
            try arrive(Array(contents[file.name]!), as: file.hash)
            try cache.commit(hash: file.hash)
        }
        XCTAssertTrue(cache.missing(set).isEmpty)
        let dir = try cache.materialize(set)
        XCTAssertTrue(dir.hasPrefix(cache.root), dir)
        for (name, data) in contents { XCTAssertEqual(FileManager.default.contents(atPath: dir + "/" + name), data, name) }
        XCTAssertEqual(try cache.materialize(set), dir, "built once, then reused")
    }

    func testASharedPathIsReadInPlaceOnlyWhenEveryFileHasItsSize() throws {
        let (dir, set, _) = try model()
        XCTAssertTrue(cache.missing(set).isEmpty, "shared filesystem: nothing to fetch")
        XCTAssertEqual(try cache.materialize(set), dir.path)
        // The file changed size on the shared disk: fall back to fetching blobs.
        try Data("tensors, but longer".utf8).write(to: dir.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(cache.missing(set).map(\.name), ["config.json", "model.safetensors"],
                       "no longer usable in place: every uncached file is fetched")
    }

    func testValidationShardsAreCheckedAgainstThePlan() throws {
        let lines = (0..<6).map { "{\"line\":\($0)}" }
        let data = Data((lines.joined(separator: "\n") + "\n").utf8)
        let hash = SHA256.hex(SHA256.hash(data))
        try arrive(Array(data), as: hash)
        try cache.commit(hash: hash)
        var range = Uniguard_V1_ShardRange()
        range.corpusHash = hash
        range.firstLine = 2
        range.lineCount = 3
        range.shardHash = ValidationShards.hash(lines[2..<5])
        XCTAssertEqual(try cache.validationLines(range, size: UInt64(data.count)), Array(lines[2..<5]))
        range.shardHash = ValidationShards.hash(lines[1..<4])
        XCTAssertThrowsError(try cache.validationLines(range, size: UInt64(data.count))) {
            XCTAssertTrue("\($0)".contains("hash mismatch"), "\($0)")
        }
        range.lineCount = 5
        XCTAssertThrowsError(try cache.validationLines(range, size: UInt64(data.count))) {
            XCTAssertTrue("\($0)".contains("exceed"), "\($0)")
        }
    }
}
