import Foundation
import TestHelpers
import XCTest

/// The .proto stays usable from C (protoc-c), and the committed Swift matches its messages.
final class WireProtoTests: XCTestCase {
    static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let protoFile = repoRoot.appendingPathComponent("proto/uniguard.proto")

    func testProtoCompilesWithProtobufC() throws {
        guard let protocC = Self.findExecutable("protoc-c") else {
            throw TestSupport.unavailable("protoc-c not on PATH (apt install protobuf-c-compiler)")
        }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("ugw-protoc-c-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: out) }

        let (status, output) = try Self.run(protocC, ["--c_out=\(out.path)",
                                                      "--proto_path=\(Self.protoFile.deletingLastPathComponent().path)",
                                                      Self.protoFile.path])
        XCTAssertEqual(status, 0, "protoc-c failed: \(output)")
        let source = out.appendingPathComponent("uniguard.pb-c.c")
        XCTAssertTrue(FileManager.default.fileExists(atPath: source.path))

        // The generated C must compile against the protobuf-c headers (setup installs gcc and libprotobuf-c-dev).
        guard let cc = Self.findExecutable("cc") else { throw TestSupport.unavailable("no C compiler `cc` (apt install gcc)") }
        guard FileManager.default.fileExists(atPath: "/usr/include/protobuf-c/protobuf-c.h") else {
            throw TestSupport.unavailable("protobuf-c headers missing (apt install libprotobuf-c-dev)")
        }
        let (ccStatus, ccOutput) = try Self.run(cc, ["-c", "-I", out.path, source.path,
                                                      "-o", out.appendingPathComponent("uniguard.o").path])
        XCTAssertEqual(ccStatus, 0, "generated C does not compile: \(ccOutput)")
    }

    func testGeneratedSwiftCoversEveryProtoMessage() throws {
        let proto = try String(contentsOf: Self.protoFile, encoding: .utf8)
        let names = proto.split(separator: "\n").compactMap { line -> String? in
            let parts = line.split(separator: " ")
            guard parts.count >= 2, parts[0] == "message" || parts[0] == "enum" else { return nil }
            return String(parts[1])
        }
        XCTAssertGreaterThan(names.count, 20)
        let generated = try String(contentsOf: Self.repoRoot
            .appendingPathComponent("Sources/Shared/Cluster/Wire/Generated/uniguard.pb.swift"), encoding: .utf8)
        for name in names {
            XCTAssertTrue(generated.contains("Uniguard_V1_\(name)"),
                          "\(name) missing from uniguard.pb.swift: run scripts/gen-proto.sh")
        }
    }

    static func findExecutable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }
}
