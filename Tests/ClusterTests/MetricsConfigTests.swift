@testable import Cluster
import Foundation
import XCTest

/// `[metrics] listen` in cluster.conf: absent means off; host:port forms accepted; anything else is an error naming
/// file:line, the key and the expected shape.
final class MetricsConfigTests: XCTestCase {
    func testAbsentMeansNoMetricsEndpoint() throws {
        XCTAssertNil(try ClusterConfig.parse("[coordinator]\nendpoint = \"tcp://*:5555\"\n", file: "c.conf").metricsListen)
        XCTAssertNil(try ClusterConfig.parse("[metrics]\n# listen = \"127.0.0.1:9464\"\n", file: "c.conf").metricsListen)
    }

    func testAcceptedAddresses() throws {
        for (text, host, port) in [("127.0.0.1:9464", "127.0.0.1", 9464), ("0.0.0.0:0", "0.0.0.0", 0), ("[::1]:9000", "::1", 9000),
                                   ("metrics-1.example.org:65535", "metrics-1.example.org", 65535), ("localhost:1", "localhost", 1)] {
            let config = try ClusterConfig.parse("[metrics]\nlisten = \"\(text)\"\n", file: "c.conf")
            XCTAssertEqual(config.metricsListen, ListenAddress(host: host, port: port), text)
            XCTAssertEqual(config.metricsListen?.description, text)
        }
    }

    func testMalformedValuesNameFileLineAndKey() {
        let cases: [(String, String)] = [
            ("\"9464\"", "has no port"), ("\":9464\"", "has no host"), ("\"127.0.0.1:\"", "not a number"),
            ("\"127.0.0.1:http\"", "not a number"), ("\"127.0.0.1:-1\"", "not a number"), ("\"127.0.0.1:70000\"", "outside 0...65535"),
            ("\"http://127.0.0.1:9464\"", "is a URL"), ("\"::1:9464\"", "without brackets"), ("\"[::1:9464\"", "unclosed"),
            ("\"bad host:1\"", "characters"), ("\"\"", "has no port"), ("9464", "expected a string"),
            ("\"127.0.0.1:99999999999999999999\"", "not a number"),
        ]
        for (value, fragment) in cases {
            do {
                _ = try ClusterConfig.parse("[coordinator]\nendpoint = \"tcp://*:5555\"\n[metrics]\nlisten = \(value)\n", file: "test.conf")
                XCTFail("\(value) was accepted")
            } catch let error as TOMLError {
                XCTAssertEqual(error.line, 4, "\(error)")
                XCTAssertEqual(error.key, "metrics.listen", "\(error)")
                XCTAssertTrue(error.description.hasPrefix("test.conf:4: key 'metrics.listen':"), "\(error)")
                XCTAssertTrue(error.description.contains(fragment), "\(value): \(error)")
            } catch {
                XCTFail("unexpected error \(error)")
            }
        }
    }

    func testUnknownKeyUnderMetricsListsTheAcceptedOne() {
        XCTAssertThrowsError(try ClusterConfig.parse("[metrics]\nport = 9464\n", file: "test.conf")) { error in
            XCTAssertTrue("\(error)".contains("test.conf:2: key 'metrics.port': unknown key; [metrics] accepts listen"), "\(error)")
        }
    }
}
