import CZMQ
import Foundation

/// An outgoing frame: bytes libzmq may copy, or memory it sends without a copy.
public enum ZMQOutgoingFrame {
    /// Copied below `ZMQSocket.zeroCopyThreshold` bytes; larger Data is sent zero-copy (kept alive by libzmq).
    case data(Data)
    /// Zero-copy: `bytes` must stay valid and unmodified while `owner` lives. libzmq retains `owner` until
    /// the frame is sent and then releases it on its I/O thread, so `owner`'s deinit must be thread-safe.
    case borrowed(UnsafeRawBufferPointer, owner: AnyObject)
}

/// Keeps a zero-copy frame's memory alive until libzmq's free callback releases it.
private final class FrameOwner: @unchecked Sendable {
    // @unchecked: created on the sending thread, released once on zmq's I/O thread; never mutated.
    let data: Data?
    let object: AnyObject?
    init(data: Data) { self.data = data; self.object = nil }
    init(object: AnyObject) { self.data = nil; self.object = object }
}

extension ZMQSocket {
    /// Frames at least this large are handed to libzmq without a copy; small ones are cheaper to copy.
    public static let zeroCopyThreshold = 32 * 1024

    /// Sends a multipart message atomically. With `dontWait`, a full send queue (SNDHWM) throws an
    /// error whose `isWouldBlock` is true, so callers can apply back-pressure instead of blocking.
    public func send(_ frames: [Data], dontWait: Bool = false) throws {
        try send(frames: frames.map { .data($0) }, dontWait: dontWait)
    }

    /// Sends a multipart message whose frames may be zero-copy buffers.
    public func send(frames: [ZMQOutgoingFrame], dontWait: Bool = false) throws {
        let socket = try open("zmq_msg_send")
        guard !frames.isEmpty else { throw ZMQError(operation: "zmq_msg_send(empty message)", code: EINVAL) }
        // libzmq delivers all parts or none: once the first part is queued the rest cannot hit the HWM.
        for (index, frame) in frames.enumerated() {
            var flags: Int32 = index < frames.count - 1 ? ZMQ_SNDMORE : 0
            if dontWait { flags |= ZMQ_DONTWAIT }
            try sendFrame(frame, socket: socket, flags: flags)
        }
    }

    private func sendFrame(_ frame: ZMQOutgoingFrame, socket: UnsafeMutableRawPointer, flags: Int32) throws {
        // Heap-allocated so the message's address is stable across the C calls.
        let msg = UnsafeMutablePointer<zmq_msg_t>.allocate(capacity: 1)
        defer { msg.deallocate() }
        try initMessage(msg, frame)
        while zmq_msg_send(msg, socket, flags) == -1 {
            let error = ZMQError.last("zmq_msg_send")
            if error.isInterrupted { continue }
            zmq_msg_close(msg)  // runs the free callback of a zero-copy frame
            throw error
        }
    }

    private func initMessage(_ msg: UnsafeMutablePointer<zmq_msg_t>, _ frame: ZMQOutgoingFrame) throws {
        switch frame {
        case .data(let data) where data.count >= Self.zeroCopyThreshold:
            let owner = FrameOwner(data: data)
            // The box never mutates its Data, so its heap storage stays put until the box is released.
            let base = owner.data!.withUnsafeBytes { UnsafeMutableRawPointer(mutating: $0.baseAddress!) }
            try initZeroCopy(msg, base, data.count, owner)
        case .data(let data):
            guard zmq_msg_init_size(msg, data.count) == 0 else { throw ZMQError.last("zmq_msg_init_size") }
            if !data.isEmpty {
                data.withUnsafeBytes { zmq_msg_data(msg)!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            }
        case .borrowed(let bytes, let object):
            guard let base = bytes.baseAddress, bytes.count > 0 else {
                guard zmq_msg_init(msg) == 0 else { throw ZMQError.last("zmq_msg_init") }
                return
            }
            try initZeroCopy(msg, UnsafeMutableRawPointer(mutating: base), bytes.count, FrameOwner(object: object))
        }
    }

    private func initZeroCopy(_ msg: UnsafeMutablePointer<zmq_msg_t>, _ base: UnsafeMutableRawPointer,
                              _ count: Int, _ owner: FrameOwner) throws {
        let hint = Unmanaged.passRetained(owner).toOpaque()
        let rc = zmq_msg_init_data(msg, base, count, { _, hint in
            // Runs on a libzmq I/O thread once the frame is no longer needed.
            if let hint { Unmanaged<FrameOwner>.fromOpaque(hint).release() }
        }, hint)
        guard rc == 0 else {
            Unmanaged<FrameOwner>.fromOpaque(hint).release()
            throw ZMQError.last("zmq_msg_init_data")
        }
    }
}
