import CGloo

/// Gloo's TCP transport bound to one address: one per process, shared by every group it joins (Gloo runs one
/// event-loop thread per device). Gloo's TCP traffic is neither authenticated nor encrypted: bind it only to
/// an address on a trusted network, whatever protects the control channel.
///
/// Creating the first device ignores SIGPIPE process-wide if it still has its default action: Gloo writes
/// with `writev`, and a peer that dies mid-write would otherwise kill this process instead of failing the
/// collective with `CollectiveError.peerGone`.
public final class TCPDevice: @unchecked Sendable {
    // @unchecked: `handle` never changes after init; Gloo's device is made to be shared by contexts on
    // several threads, and a context keeps its own reference to the device.
    let handle: OpaquePointer

    /// Binds to `hostname`: an IP address or a name that resolves to one (e.g. "127.0.0.1", the worker's
    /// `--data-addr`).
    public convenience init(hostname: String) throws(CollectiveError) {
        try self.init(hostname: hostname, interface: nil)
    }

    /// Binds to the address of network interface `interface` (e.g. "lo", "eth0").
    public convenience init(interface: String) throws(CollectiveError) {
        try self.init(hostname: nil, interface: interface)
    }

    private init(hostname: String?, interface: String?) throws(CollectiveError) {
        var error = cgloo_error()
        guard let handle = cgloo_device_create_tcp(hostname, interface, &error) else {
            throw CollectiveError(error, context: hostname.map { "host \($0)" } ?? "interface \(interface ?? "")")
        }
        self.handle = handle
    }

    /// Gloo's description of the device (its bound address).
    public var description: String {
        var buffer = [CChar](repeating: 0, count: 256)
        _ = cgloo_device_describe(handle, &buffer, buffer.count)
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit { cgloo_device_destroy(handle) }
}
