import ArgumentParser
import CommandLineSupport
import Logging
import XCTest

/// The shared option groups parse what users type and refuse, as usage errors, what no run could use.
final class OptionGroupTests: XCTestCase {
    func testThreadsAcceptsACountAndRefusesZeroNegativeAndHuge() throws {
        XCTAssertEqual(try ThreadOptions.parse(["--threads", "2"]).threads, 2)
        XCTAssertNil(try ThreadOptions.parse([]).threads)
        for bad in ["0", "-3", "100000"] {
            XCTAssertThrowsError(try ThreadOptions.parse(["--threads=\(bad)"]), "--threads \(bad)") { error in
                XCTAssertEqual(ThreadOptions.exitCode(for: error), .validationFailure)
                XCTAssertTrue(ThreadOptions.message(for: error).contains("--threads"), ThreadOptions.message(for: error))
            }
        }
    }

    func testLogLevelIsTheEnumAndABadOneNamesTheChoices() throws {
        XCTAssertEqual(try LogLevelOption.parse(["--log-level", "debug"]).logLevel, .debug)
        XCTAssertEqual(try LogLevelOption.parse([]).logLevel, .info)
        XCTAssertThrowsError(try LogLevelOption.parse(["--log-level", "loud"])) { error in
            XCTAssertEqual(LogLevelOption.exitCode(for: error), .validationFailure)
            let message = LogLevelOption.message(for: error)
            XCTAssertTrue(message.contains("trace") && message.contains("critical"), message)
        }
    }

    func testChecksPassAbsentValuesAndRefuseOutOfRangeOnes() throws {
        XCTAssertNoThrow(try OptionCheck.atLeast(1, Int?.none, "--epochs"))
        XCTAssertThrowsError(try OptionCheck.atLeast(1, 0, "--epochs")) { error in
            XCTAssertEqual("\(error)", "--epochs must be at least 1 (got 0)")
        }
        XCTAssertThrowsError(try OptionCheck.within(0.0...1.0, Double.nan, "--val"))
        for bad in [0, -1e-5, .nan, .infinity, 1e300] {
            XCTAssertThrowsError(try OptionCheck.positive(bad, "--lr"), "--lr \(bad)")
        }
        XCTAssertNoThrow(try OptionCheck.positive(5e-5, "--lr"))
        XCTAssertNoThrow(try OptionCheck.nonNegative(0, "--mlm-weight"))
        XCTAssertThrowsError(try OptionCheck.nonNegative(-1, "--mlm-weight"))
        XCTAssertThrowsError(try OptionCheck.milliseconds(0, "--timeout-ms"))
        XCTAssertThrowsError(try OptionCheck.milliseconds(500, "--reconnect-max-ms", minimum: 1000))
        XCTAssertThrowsError(try OptionCheck.milliseconds(OptionCheck.longestMilliseconds + 1, "--interval-ms"))
        XCTAssertNoThrow(try OptionCheck.milliseconds(1000, "--interval-ms"))
    }
}
