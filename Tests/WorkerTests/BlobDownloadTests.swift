import XCTest
@testable import Worker

/// The worker's chunk bookkeeping for one blob: ranges, window, short chunks, resends.
final class BlobDownloadTests: XCTestCase {
    func testBlobDownloadWindowShortChunksAndResend() {
        var d = BlobDownload(hash: "h", size: 10, chunkSize: 4)
        var requests = d.nextRequests(window: 2)
        XCTAssertEqual(requests.map(\.offset), [0, 4])
        XCTAssertEqual(requests.map(\.length), [4, 4])
        XCTAssertTrue(d.nextRequests(window: 2).isEmpty, "window is full")
        XCTAssertFalse(d.received(offset: 1, length: 3), "not a requested offset")
        XCTAssertTrue(d.received(offset: 0, length: 2), "a short chunk is accepted")
        XCTAssertFalse(d.received(offset: 0, length: 2), "duplicates are ignored")
        requests = d.nextRequests(window: 2)
        XCTAssertEqual(requests.map(\.offset), [2], "the rest of the short chunk comes next")
        d.resendOutstanding()
        requests = d.nextRequests(window: 8)
        XCTAssertEqual(requests.map(\.offset), [2, 4, 8])
        for r in requests { XCTAssertTrue(d.received(offset: r.offset, length: r.length)) }
        XCTAssertTrue(d.isComplete)
        XCTAssertEqual(d.receivedBytes, 10)
    }

    func testUnaskedOversizedAndEmptyChunksAreIgnored() {
        var d = BlobDownload(hash: "h", size: 8, chunkSize: 4)
        _ = d.nextRequests(window: 1)
        XCTAssertFalse(d.received(offset: 4, length: 4), "never asked")
        XCTAssertFalse(d.received(offset: 0, length: 5), "longer than asked")
        XCTAssertFalse(d.received(offset: 0, length: 0), "empty")
        XCTAssertTrue(d.received(offset: 0, length: 4))
        XCTAssertEqual(d.receivedBytes, 4)
    }
}
