import Foundation

/// The address the worker's Gloo TCP device binds to by default: the local address of the interface that
/// reaches the coordinator (what the kernel would pick to send to it), so gradient traffic uses the network the
/// control channel already uses and nothing listens on other interfaces.
enum DataAddress {
    /// For `tcp://HOST:PORT`: connects a UDP socket to HOST (no packet is sent) and reads the local address
    /// the kernel chose. IPv4 only (Gloo's device is made from an IPv4 host here).
    static func reaching(endpoint: String) throws -> String {
        guard endpoint.hasPrefix("tcp://") else {
            throw WorkerError("cannot tell which interface reaches \(endpoint): give --data-addr")
        }
        let hostPort = endpoint.dropFirst(6)
        guard let colon = hostPort.lastIndex(of: ":") else { throw WorkerError("\(endpoint) has no port: give --data-addr") }
        let host = String(hostPort[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if host == "*" || host == "0.0.0.0" || host == "localhost" { return "127.0.0.1" }
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, "9", &hints, &found) == 0, let info = found else {
            throw WorkerError("cannot resolve the coordinator host '\(host)' to an IPv4 address: give --data-addr")
        }
        defer { freeaddrinfo(found) }
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw WorkerError("socket() failed: give --data-addr") }
        defer { close(fd) }
        guard connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            throw WorkerError("no route to the coordinator host '\(host)': give --data-addr")
        }
        var local = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { throw WorkerError("cannot read the local address toward '\(host)': give --data-addr") }
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        guard inet_ntop(AF_INET, &local.sin_addr, &text, socklen_t(text.count)) != nil else {
            throw WorkerError("cannot format the local address toward '\(host)': give --data-addr")
        }
        return String(cString: text)
    }
}
