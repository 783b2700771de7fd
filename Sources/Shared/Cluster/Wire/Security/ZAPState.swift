import Foundation
import Logging
import Runtime

/// The ZAP handler's shared state and its accept/deny decision (RFC 27 request → reply frames).
final class ZAPState: Sendable {
    let allowed: Guarded<Set<CurveKey>>
    let running = Guarded(true)
    let counts = Guarded((accepted: 0, denied: 0))
    /// Keys already reported as refused, so a client retrying every second does not flood the log.
    private let reported = Guarded(Set<Data>())
    let logger: Logger

    init(allowed: Set<CurveKey>, logger: Logger) {
        self.allowed = Guarded(allowed)
        self.logger = logger
    }

    /// Request: version, request id, domain, address, identity, mechanism, credentials...
    /// Reply: version, request id, status code, status text, user id, metadata.
    func reply(to frames: [Data]) -> [Data] {
        let requestId = frames.count > 1 ? frames[1] : Data()
        guard frames.count >= 6, frames[0] == Data("1.0".utf8) else {
            logger.error("ZAP: malformed request with \(frames.count) frames")
            return Self.reply(requestId, "500", "malformed ZAP request", user: "")
        }
        let address = String(decoding: frames[3], as: UTF8.self)
        let mechanism = String(decoding: frames[5], as: UTF8.self)
        guard mechanism == "CURVE", frames.count >= 7, let key = try? CurveKey(bytes: frames[6]) else {
            deny(key: nil, address: address, why: "mechanism \(mechanism) is not accepted")
            return Self.reply(requestId, "400", "CURVE required", user: "")
        }
        guard allowed.value.contains(key) else {
            deny(key: key, address: address, why: "public key \(key.z85) is not in the allowed list")
            return Self.reply(requestId, "400", "client key not allowed", user: "")
        }
        counts.withLock { $0.accepted += 1 }
        logger.debug("ZAP: admitted \(key.z85) from \(address)")
        // The Z85 public key becomes the connection's User-Id, readable per message on the server.
        return Self.reply(requestId, "200", "OK", user: key.z85)
    }

    private func deny(key: CurveKey?, address: String, why: String) {
        counts.withLock { $0.denied += 1 }
        let first = reported.withLock { seen in
            guard seen.count < 4096 else { return false }
            return seen.insert(key?.bytes ?? Data()).inserted
        }
        if first {
            logger.warning("ZAP: refused connection from \(address): \(why)")
        } else {
            logger.debug("ZAP: refused connection from \(address): \(why)")
        }
    }

    private static func reply(_ requestId: Data, _ code: String, _ text: String, user: String) -> [Data] {
        [Data("1.0".utf8), requestId, Data(code.utf8), Data(text.utf8), Data(user.utf8), Data()]
    }
}
