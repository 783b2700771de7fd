import CZMQ

/// Events to wait for or that occurred on a polled socket.
public struct ZMQPollEvents: OptionSet, Sendable {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }
    public static let readable = ZMQPollEvents(rawValue: Int16(ZMQ_POLLIN))
    public static let writable = ZMQPollEvents(rawValue: Int16(ZMQ_POLLOUT))
    public static let error = ZMQPollEvents(rawValue: Int16(ZMQ_POLLERR))
}

/// Waits on several sockets (and plain file descriptors) at once; owned by one thread like its sockets.
public struct ZMQPoller {
    private var items: [zmq_pollitem_t] = []
    // Retained so polled handles stay open while the poller exists.
    private var sockets: [ZMQSocket?] = []

    public init() {}

    /// Adds a socket; returns its index in poll()'s result.
    @discardableResult
    public mutating func add(_ socket: ZMQSocket, events: ZMQPollEvents = .readable) -> Int {
        items.append(zmq_pollitem_t(socket: socket.handle, fd: -1, events: events.rawValue, revents: 0))
        sockets.append(socket)
        return items.count - 1
    }

    /// Adds a file descriptor (e.g. a self-pipe for wake-ups); returns its index in poll()'s result.
    @discardableResult
    public mutating func add(fileDescriptor: Int32, events: ZMQPollEvents = .readable) -> Int {
        items.append(zmq_pollitem_t(socket: nil, fd: fileDescriptor, events: events.rawValue, revents: 0))
        sockets.append(nil)
        return items.count - 1
    }

    /// Waits up to `timeoutMs` (-1: forever; 0: just check). Returns the events per item, in add order;
    /// all empty on timeout or when a signal interrupted the wait.
    public mutating func poll(timeoutMs: Int) throws -> [ZMQPollEvents] {
        for index in items.indices { items[index].revents = 0 }
        let rc = items.withUnsafeMutableBufferPointer { zmq_poll($0.baseAddress, Int32($0.count), timeoutMs) }
        if rc == -1 {
            let error = ZMQError.last("zmq_poll")
            if !error.isInterrupted { throw error }
        }
        return items.map { ZMQPollEvents(rawValue: $0.revents) }
    }
}

extension ZMQSocket {
    /// Waits up to `timeoutMs` for `events` on this socket alone; returns those that occurred.
    public func poll(_ events: ZMQPollEvents = .readable, timeoutMs: Int) throws -> ZMQPollEvents {
        var poller = ZMQPoller()
        poller.add(self, events: events)
        return try poller.poll(timeoutMs: timeoutMs)[0]
    }
}
