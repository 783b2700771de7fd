/// A TCP address an HTTP server listens on, written `host:port` (`127.0.0.1:9464`, `0.0.0.0:9464`,
/// `[::1]:9464`, `metrics.example:9464`); port 0 picks a free port.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`; the reason names what is wrong and shows the expected shape.
    public init(parsing text: String) throws(TOMLError) {
        func bad(_ why: String) -> TOMLError {
            TOMLError(file: "", line: 0, reason: "'\(text)' \(why); expected host:port, e.g. \"127.0.0.1:9464\" or \"0.0.0.0:9464\"")
        }
        guard !text.contains("://") else { throw bad("is a URL, not an address (no scheme)") }
        guard let colon = text.lastIndex(of: ":") else { throw bad("has no port") }
        var host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        if host.hasPrefix("[") {
            // IPv6 in brackets: [::1]:9464.
            guard host.hasSuffix("]"), host.count > 2 else { throw bad("has an unclosed IPv6 bracket") }
            host = String(host.dropFirst().dropLast())
        } else if host.contains(":") {
            throw bad("has an IPv6 host without brackets (write [::1]:9464)")
        }
        guard !host.isEmpty else { throw bad("has no host (use 0.0.0.0 for every interface)") }
        guard host.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || ".-_:".unicodeScalars.contains($0)) })
        else { throw bad("has a host with characters a host name cannot have") }
        guard !portText.isEmpty, portText.allSatisfy(\.isASCII), portText.allSatisfy(\.isNumber), let port = Int(portText) else {
            throw bad("has a port that is not a number")
        }
        guard (0...65535).contains(port) else { throw bad("has port \(port), outside 0...65535") }
        self.init(host: host, port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
