@testable import Cluster
import Foundation
import TestHelpers
import XCTest

/// CURVE keys, key files, and the ZAP allow-list on live sockets.
final class WireCurveTests: XCTestCase {
    override func setUpWithError() throws {
        guard ZMQContext.has("curve") else { throw TestSupport.unavailable("libzmq built without CURVE (Debian's libzmq3-dev has it)") }
    }

    func testKeysRoundTripThroughZ85() throws {
        let pair = try CurveKeyPair.generate()
        XCTAssertEqual(pair.publicKey.z85.count, 40)
        XCTAssertEqual(try CurveKey(z85: pair.publicKey.z85), pair.publicKey)
        XCTAssertEqual(try CurveKeyPair(secretKey: pair.secretKey), pair)
        XCTAssertNotEqual(try CurveKeyPair.generate(), pair)
        XCTAssertFalse(pair.secretKey.description.contains(pair.secretKey.z85))
        XCTAssertThrowsError(try CurveKey(z85: "too short"))
        XCTAssertThrowsError(try CurveKey(z85: String(repeating: "~", count: 40)))
        XCTAssertThrowsError(try CurveKey(bytes: Data(count: 31)))
    }

    func testKeyFilesAndPermissions() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ugw-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let publicPath = dir.appendingPathComponent("worker.key").path
        let secretPath = dir.appendingPathComponent("worker.key_secret").path

        let pair = try CurveKeyPair.generate()
        try pair.write(publicKeyFile: publicPath, secretKeyFile: secretPath)
        let secretMode = try FileManager.default.attributesOfItem(atPath: secretPath)[.posixPermissions] as? Int
        XCTAssertEqual(secretMode, 0o600)
        XCTAssertEqual(try CurveKey.load(publicKeyFile: publicPath), pair.publicKey)
        XCTAssertEqual(try CurveKeyPair.load(secretKeyFile: secretPath), pair)

        // Overwriting keeps the secret file private.
        try CurveKeyPair.generate().write(publicKeyFile: publicPath, secretKeyFile: secretPath)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: secretPath)[.posixPermissions] as? Int, 0o600)

        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: secretPath)
        XCTAssertThrowsError(try CurveKeyPair.load(secretKeyFile: secretPath)) {
            guard case .insecurePermissions? = $0 as? CurveError else { return XCTFail("unexpected \($0)") }
        }
        XCTAssertThrowsError(try CurveKey.load(publicKeyFile: dir.appendingPathComponent("missing").path))
    }

    func testListedClientIsAdmittedAndUnlistedClientIsRefused() throws {
        let context = try ZMQContext()
        let serverKeys = try CurveKeyPair.generate()
        let keyA = try CurveKeyPair.generate()
        let keyB = try CurveKeyPair.generate()
        let zap = try ZAPHandler(context: context, allowedKeys: [keyA.publicKey])
        defer { zap.stop() }
        XCTAssertThrowsError(try ZAPHandler(context: context, allowedKeys: []), "one handler per context")

        let router = try context.socket(.router)
        try router.enableCurveServer(keys: serverKeys)
        let endpoint = try router.bind("tcp://127.0.0.1:0")

        let clientA = try context.socket(.dealer)
        try clientA.set(.routingId(Data("A".utf8)), .reconnectInterval(milliseconds: 100))
        try clientA.enableCurveClient(keys: keyA, serverKey: serverKeys.publicKey)
        try clientA.connect(endpoint)
        try clientA.send([Data("hello from A".utf8)])

        let fromA = try XCTUnwrap(try router.receiveMessage(timeoutMs: 5000), "listed client got nothing through")
        XCTAssertEqual(fromA.frames, [Data("A".utf8), Data("hello from A".utf8)])
        XCTAssertEqual(fromA.userId, keyA.publicKey.z85, "ZAP user id names the client key")
        try router.send([Data("A".utf8), Data("welcome".utf8)])
        XCTAssertEqual(try clientA.receiveMultipart(timeoutMs: 5000), [Data("welcome".utf8)])

        let clientB = try context.socket(.dealer)
        try clientB.set(.routingId(Data("B".utf8)), .reconnectInterval(milliseconds: 100))
        try clientB.enableCurveClient(keys: keyB, serverKey: serverKeys.publicKey)
        try clientB.connect(endpoint)
        try clientB.send([Data("hello from B".utf8)])
        XCTAssertNil(try router.receiveMessage(timeoutMs: 1500), "unlisted client must not get through")
        XCTAssertGreaterThanOrEqual(zap.deniedCount, 1)
        XCTAssertGreaterThanOrEqual(zap.acceptedCount, 1)

        // A client with the right key but the wrong server key fails the handshake as well.
        let impostor = try CurveKeyPair.generate()
        let clientC = try context.socket(.dealer)
        try clientC.enableCurveClient(keys: keyA, serverKey: impostor.publicKey)
        try clientC.connect(endpoint)
        try clientC.send([Data("hello from C".utf8)])
        XCTAssertNil(try router.receiveMessage(timeoutMs: 500))

        // A plain (non-CURVE) client cannot talk to a CURVE server either.
        let plain = try context.socket(.dealer)
        try plain.connect(endpoint)
        try plain.send([Data("plain".utf8)])
        XCTAssertNil(try router.receiveMessage(timeoutMs: 500))

        for socket in [clientA, clientB, clientC, plain, router] { socket.close() }
    }

    func testAllowListCanChangeAtRuntime() throws {
        let context = try ZMQContext()
        let serverKeys = try CurveKeyPair.generate()
        let key = try CurveKeyPair.generate()
        let zap = try ZAPHandler(context: context, allowedKeys: [])
        defer { zap.stop() }
        zap.allow(key.publicKey)
        XCTAssertEqual(zap.allowedKeys, [key.publicKey])

        let router = try context.socket(.router)
        try router.enableCurveServer(keys: serverKeys)
        let endpoint = try router.bind("tcp://127.0.0.1:0")
        let client = try context.socket(.dealer)
        try client.enableCurveClient(keys: key, serverKey: serverKeys.publicKey)
        try client.connect(endpoint)
        try client.send([Data("hi".utf8)])
        XCTAssertNotNil(try router.receiveMessage(timeoutMs: 5000))
        zap.revoke(key.publicKey)
        XCTAssertTrue(zap.allowedKeys.isEmpty)
    }

    func testZAPRepliesFollowRFC27() throws {
        let key = try CurveKeyPair.generate().publicKey
        let state = ZAPState(allowed: [key], logger: .init(label: "test"))
        func request(_ mechanism: String, _ credentials: [Data]) -> [Data] {
            [Data("1.0".utf8), Data("7".utf8), Data("uniguard".utf8), Data("127.0.0.1".utf8), Data(),
             Data(mechanism.utf8)] + credentials
        }
        let ok = state.reply(to: request("CURVE", [key.bytes]))
        XCTAssertEqual(ok.count, 6)
        XCTAssertEqual(ok[1], Data("7".utf8))
        XCTAssertEqual(ok[2], Data("200".utf8))
        XCTAssertEqual(ok[4], Data(key.z85.utf8))
        XCTAssertEqual(state.reply(to: request("CURVE", [Data(count: 32)]))[2], Data("400".utf8))
        XCTAssertEqual(state.reply(to: request("NULL", []))[2], Data("400".utf8))
        XCTAssertEqual(state.reply(to: request("CURVE", [Data([1, 2])]))[2], Data("400".utf8))
        XCTAssertEqual(state.reply(to: [Data("2.0".utf8), Data("1".utf8)])[2], Data("500".utf8))
        XCTAssertEqual(state.reply(to: [])[2], Data("500".utf8))
    }
}
