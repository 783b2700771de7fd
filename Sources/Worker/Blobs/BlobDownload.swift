/// Chunk bookkeeping for fetching one blob from the coordinator (pure: the worker does the I/O).
///
/// The blob is cut into ranges of at most `chunkSize` bytes; at most `window` requests are outstanding, so a
/// large model streams without flooding the coordinator's send queue. The coordinator may answer with less than
/// was asked (its own chunk limit): the rest of that range is requested next. After a reconnect or a stall,
/// `resendOutstanding` asks again for everything not yet received (duplicate chunks are ignored).
public struct BlobDownload: Sendable, Equatable {
    public let hash: String
    public let size: UInt64
    public let chunkSize: UInt64
    /// Ranges not yet requested, in order.
    private var unrequested: [Range<UInt64>]
    /// Requested and not yet received: offset → length asked.
    public private(set) var outstanding: [UInt64: UInt64] = [:]
    public private(set) var receivedBytes: UInt64 = 0

    public init(hash: String, size: UInt64, chunkSize: UInt64) {
        self.hash = hash
        self.size = size
        self.chunkSize = max(chunkSize, 1)
        unrequested = stride(from: UInt64(0), to: size, by: Int(clamping: max(chunkSize, 1))).map {
            $0..<min($0 + max(chunkSize, 1), size)
        }
    }

    public var isComplete: Bool { receivedBytes >= size && outstanding.isEmpty }

    /// Requests to send now (marked outstanding) so that at most `window` are in flight.
    public mutating func nextRequests(window: Int) -> [(offset: UInt64, length: UInt64)] {
        var out: [(UInt64, UInt64)] = []
        while outstanding.count < window, !unrequested.isEmpty {
            let range = unrequested.removeFirst()
            outstanding[range.lowerBound] = UInt64(range.count)
            out.append((range.lowerBound, UInt64(range.count)))
        }
        return out
    }

    /// A chunk arrived; true when it starts a range we asked for and fits in it (so it must be written).
    /// A short chunk leaves the rest of its range to be requested next.
    public mutating func received(offset: UInt64, length: UInt64) -> Bool {
        guard length > 0, let asked = outstanding[offset], length <= asked else { return false }
        outstanding[offset] = nil
        receivedBytes += length
        if length < asked { unrequested.insert((offset + length)..<(offset + asked), at: 0) }
        return true
    }

    /// Forget what is in flight so it is requested again (connection lost, or no progress for a while).
    public mutating func resendOutstanding() {
        unrequested = outstanding.sorted { $0.key < $1.key }.map { $0.key..<($0.key + $0.value) } + unrequested
        outstanding = [:]
    }
}
