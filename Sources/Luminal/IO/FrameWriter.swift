import Dispatch
import Glibc
import LuminalWire
import Synchronization

/// Writes frames to a worker's fd 3 (or a control client's socket) without ever blocking the caller.
///
/// Bytes the pipe cannot take now are queued and flushed on the worker's queue when the event
/// loop reports the pipe writable again. A write to a worker that is gone fails with EPIPE (the
/// supervisor ignores SIGPIPE) and closes the writer.
final class FrameWriter: Sendable {
    private let queue: DispatchQueue
    private let state: Mutex<State>

    private struct State {
        var fd: Int32
        var token: EventLoop.Token?
        var pending: [UInt8] = []
        var flushed = 0
        var closeWhenFlushed = false
    }

    /// Takes ownership of `fd` (made non-blocking); -1 makes a writer that is closed from the start.
    init(fd: Int32, queue: DispatchQueue) throws(SystemError) {
        if fd >= 0 { try setNonBlocking(fd) }
        self.queue = queue
        state = Mutex(State(fd: fd))
    }

    deinit {
        state.withLock { Self.close(&$0) }
    }

    /// Queues one frame; false when the writer is closed (the worker is gone or let go).
    @discardableResult
    func send(_ message: HostMessage) -> Bool {
        send(object: message.json)
    }

    /// Queues one frame holding `object`; false when the writer is closed.
    @discardableResult
    func send(object: JSONValue) -> Bool {
        let frame = Frame.encode(object)
        return state.withLock { state in
            guard state.fd >= 0, !state.closeWhenFlushed else { return false }
            if state.pending.count == state.flushed {
                state.pending.removeAll(keepingCapacity: true)
                state.flushed = 0
                var written = 0
                guard Self.write(frame, from: &written, state: &state) else { return false }
                if written == frame.count { return true }
                state.pending = Array(frame[written...])
                waitForRoom(&state)
            } else {
                state.pending += frame
            }
            return true
        }
    }

    /// Closes fd 3 once queued frames are written: the worker then reads end of file.
    func finish() {
        state.withLock { state in
            if state.pending.count == state.flushed { Self.close(&state) } else { state.closeWhenFlushed = true }
        }
    }

    /// Closes fd 3 now, dropping queued frames.
    func close() {
        state.withLock { Self.close(&$0) }
    }

    private func waitForRoom(_ state: inout State) {
        if let token = state.token {
            EventLoop.shared.arm(token, writing: true)
        } else {
            state.token = EventLoop.shared.add(state.fd, writing: true, once: true, waking: self, on: queue) { $0.flush() }
        }
    }

    private func flush() {
        state.withLock { state in
            guard state.fd >= 0, state.flushed < state.pending.count else { return }
            var written = state.flushed
            guard Self.write(state.pending, from: &written, state: &state) else { return }
            state.flushed = written
            if written < state.pending.count {
                waitForRoom(&state)
                return
            }
            state.pending.removeAll(keepingCapacity: true)
            state.flushed = 0
            if state.closeWhenFlushed { Self.close(&state) }
        }
    }

    /// Writes `bytes[offset...]` until done or EAGAIN; false (and closed) on any other error.
    private static func write(_ bytes: [UInt8], from offset: inout Int, state: inout State) -> Bool {
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(state.fd, $0.baseAddress! + offset, $0.count - offset) }
            if n >= 0 {
                offset += n
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN {
                return true
            } else {
                close(&state)
                return false
            }
        }
        return true
    }

    private static func close(_ state: inout State) {
        guard state.fd >= 0 else { return }
        state.token.map(EventLoop.shared.remove)
        closeQuietly(state.fd)
        state = State(fd: -1)
    }
}
