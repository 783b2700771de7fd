import Foundation
import XCTest
@testable import Worker

/// The on-disk cache of corpus records fetched by byte range: survives a reopen, ignores a torn tail.
final class RecordCacheTests: XCTestCase {
    var dir = ""

    override func setUp() {
        dir = NSTemporaryDirectory() + "uniguard-records-\(UUID().uuidString)"
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testRecordsSurviveReopenAndAreStoredOnce() throws {
        do {
            let cache = try RecordCache(directory: dir)
            try cache.store(7, Array("seven".utf8))
            try cache.store(2, Array("two".utf8))
            try cache.store(7, Array("other".utf8))  // a row stored already keeps its bytes
            XCTAssertEqual(cache.storedBytes, 8)
        }
        let cache = try RecordCache(directory: dir)
        XCTAssertEqual(cache.count, 2)
        XCTAssertEqual(try cache.bytes(7).map { String(decoding: $0, as: UTF8.self) }, "seven")
        XCTAssertEqual(try cache.bytes(2).map { String(decoding: $0, as: UTF8.self) }, "two")
        XCTAssertNil(try cache.bytes(3))
    }

    /// A crash between writing a record's bytes and its map entry, or in the middle of an entry, loses only that
    /// record; later records are stored at aligned entries again.
    func testTornMapEntryAndUnreferencedBytesAreIgnored() throws {
        do {
            let cache = try RecordCache(directory: dir)
            try cache.store(1, Array("one".utf8))
        }
        // Bytes of a record without its entry, then half an entry.
        let records = try XCTUnwrap(FileHandle(forWritingAtPath: dir + "/records.bin"))
        try records.seekToEnd()
        try records.write(contentsOf: Data("orphan".utf8))
        try records.close()
        let map = try XCTUnwrap(FileHandle(forWritingAtPath: dir + "/map.bin"))
        try map.seekToEnd()
        try map.write(contentsOf: Data(repeating: 0xFF, count: 11))
        try map.close()

        let cache = try RecordCache(directory: dir)
        XCTAssertEqual(cache.count, 1)
        try cache.store(5, Array("five".utf8))
        let reopened = try RecordCache(directory: dir)
        XCTAssertEqual(reopened.count, 2)
        XCTAssertEqual(try reopened.bytes(5).map { String(decoding: $0, as: UTF8.self) }, "five")
        XCTAssertEqual(try reopened.bytes(1).map { String(decoding: $0, as: UTF8.self) }, "one")
    }

    /// An entry pointing past the bytes file (the bytes file lost its tail) is dropped, not served short.
    func testEntryPastTheBytesFileIsDropped() throws {
        do {
            let cache = try RecordCache(directory: dir)
            try cache.store(1, Array("one".utf8))
            try cache.store(2, Array("two".utf8))
        }
        let records = try XCTUnwrap(FileHandle(forWritingAtPath: dir + "/records.bin"))
        try records.truncate(atOffset: 4)
        try records.close()
        let cache = try RecordCache(directory: dir)
        XCTAssertEqual(cache.count, 1)
        XCTAssertNil(try cache.bytes(2))
    }
}

/// The default gradient address: the local address toward the coordinator.
final class DataAddressTests: XCTestCase {
    func testLoopbackCoordinatorGivesLoopback() throws {
        XCTAssertEqual(try DataAddress.reaching(endpoint: "tcp://127.0.0.1:5555"), "127.0.0.1")
        XCTAssertEqual(try DataAddress.reaching(endpoint: "tcp://localhost:5555"), "127.0.0.1")
    }

    func testEndpointsWithoutAHostAskForTheOption() {
        for endpoint in ["ipc:///tmp/x", "tcp://nohostport", "tcp://no-such-host.invalid:1"] {
            XCTAssertThrowsError(try DataAddress.reaching(endpoint: endpoint)) { error in
                XCTAssertTrue("\(error)".contains("--data-addr"), "\(endpoint): \(error)")
            }
        }
    }
}
