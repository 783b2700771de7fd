import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Serving
import TestHelpers
import XCTest

/// A known path asked with a method it does not answer: 405 with an `Allow` header and the JSON error (not a 404,
/// which would say the path does not exist); HEAD on the GET endpoints; unknown paths stay 404.
final class ServingMethodTests: XCTestCase {
    var root: URL!
    override func setUp() { root = TestSupport.tempDir() }
    override func tearDown() { try? FileManager.default.removeItem(at: root) }

    /// A raw HTTP exchange: status, `Allow` header and body.
    private func exchange(_ url: URL, _ method: String) async throws -> (status: Int, allow: String?, body: Data) {
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.timeoutInterval = 30
        if method == "POST" || method == "PUT" {
            request.httpBody = Data("{}".utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        return try await withCheckedThrowingContinuation { cont in
            ServingFixture.session.dataTask(with: request) { data, response, error in
                if let error { cont.resume(throwing: error); return }
                let http = response as? HTTPURLResponse
                cont.resume(returning: (http?.statusCode ?? 0, http?.value(forHTTPHeaderField: "Allow"), data ?? Data()))
            }.resume()
        }
    }

    func testWrongMethodOnAKnownPathIs405WithAllowAndAJSONError() async throws {
        let catalog = try GuardCatalog.load(directories: [try ServingFixture.promptGuard("alpha", seed: 1, in: root)])
        let running = try await ServingFixture.start(catalog)
        let cases: [(path: String, method: String, allow: String)] = [
            ("/v1/moderations", "GET", "POST"), ("/v1/classify", "GET", "POST"), ("/v1/classify", "DELETE", "POST"),
            ("/v1/moderations", "PUT", "POST"), ("/v1/models", "POST", "GET, HEAD"), ("/healthz", "POST", "GET, HEAD"),
            ("/readyz", "DELETE", "GET, HEAD"), ("/metrics", "POST", "GET, HEAD"),
        ]
        for c in cases {
            let (status, allow, body) = try await exchange(running.url(c.path), c.method)
            XCTAssertEqual(status, 405, "\(c.method) \(c.path)")
            XCTAssertEqual(allow, c.allow, "\(c.method) \(c.path)")
            let error = try XCTUnwrap((try JSONSerialization.jsonObject(with: body) as? [String: Any])?["error"] as? [String: Any],
                                      String(decoding: body, as: UTF8.self))
            XCTAssertEqual(error["param"] as? String, "method")
            let message = try XCTUnwrap(error["message"] as? String)
            XCTAssertTrue(message.contains("\(c.path) does not answer \(c.method); use \(c.allow)"), message)
        }
        // HEAD on a GET endpoint answers like GET, without a body.
        let head = try await exchange(running.url("/healthz"), "HEAD")
        XCTAssertEqual(head.status, 200)
        XCTAssertTrue(head.body.isEmpty)
        // An unknown path is still 404, whatever the method; the right method still works.
        let unknown = try await exchange(running.url("/v1/nothing"), "GET")
        XCTAssertEqual(unknown.status, 404)
        XCTAssertNil(unknown.allow)
        let right = try await exchange(running.url("/v1/classify"), "POST")
        XCTAssertEqual(right.status, 400, "an empty object is a bad request, not a wrong method")
        // 405s are counted like other errors.
        let text = String(decoding: try await ServingFixture.request(running.url("/metrics")).body, as: UTF8.self)
        XCTAssertEqual(ServingFixture.sample(text, #"uniguard_serve_errors_total{endpoint="/v1/classify",status="405"}"#), 2, text)
        try await running.stop()
    }
}
