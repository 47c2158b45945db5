import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import LuminalWire
import Synchronization

/// Writes frames to a worker's fd 3 (or a control client's socket) without ever blocking the caller.
///
/// Frames the pipe cannot take now are queued, each whole, and flushed on the worker's queue when
/// the event loop reports the pipe writable again. A frame sent with a `limit` is refused when
/// the bytes already queued plus its own would pass it (a frame is always taken when nothing
/// waits, so the queue holds at most the limit, or one frame). A frame sent with a tag can be
/// withdrawn until its first byte is written. A write to a peer that is gone fails with EPIPE
/// (the supervisor ignores SIGPIPE) and closes the writer.
package final class FrameWriter: Sendable {
    /// What `send` did with a frame.
    package enum Outcome: Equatable {
        /// Written, or queued to be.
        case sent
        /// The writer is closed: the peer is gone or was let go.
        case closed
        /// Refused: `queued` unwritten bytes wait already, and this frame would take them past the limit.
        case overLimit(queued: Int)
    }

    /// Small queued frames are written together, up to this many bytes in one system call.
    private static let batchSize = 64 * 1024

    private let queue: DispatchQueue
    package let state: Mutex<State>

    /// Takes ownership of `fd` (made non-blocking); -1 makes a writer that is closed from the start.
    package init(fd: Int32, queue: DispatchQueue) throws(SystemError) {
        if fd >= 0 { try setNonBlocking(fd) }
        self.queue = queue
        state = Mutex(State(fd: fd))
    }

    deinit {
        close()
    }

    /// Queues one frame; false when the writer is closed (the worker is gone or let go).
    @discardableResult
    package func send(_ message: HostMessage) -> Bool {
        send(frame: Frame.encode(message.json)) == .sent
    }

    /// Queues `frame` (header included), tagged with `tag` if given, unless it would take the
    /// queued bytes past `limit`.
    package func send(frame: [UInt8], tag: Int64? = nil, limit: Int? = nil) -> Outcome {
        state.withLock { state in
            guard state.fd >= 0, !state.closeWhenFlushed else { return .closed }
            if let limit, state.queuedBytes > 0, state.queuedBytes + frame.count > limit {
                return .overLimit(queued: state.queuedBytes)
            }
            var written = 0
            if state.queuedBytes == 0 {
                guard let n = Self.write(frame, from: 0, fd: state.fd) else {
                    state.close()
                    return .closed
                }
                if n == frame.count { return .sent }
                written = n
                waitForRoom(&state)
            }
            state.append(frame, tag: written == 0 ? tag : nil, written: written)
            return .sent
        }
    }

    /// Drops the frame sent with `tag` if none of it is written yet; true if it was dropped.
    @discardableResult
    package func withdraw(_ tag: Int64) -> Bool {
        state.withLock { $0.withdraw(tag) }
    }

    /// The unwritten bytes of the queued frames.
    var queuedBytes: Int { state.withLock { $0.queuedBytes } }

    /// Closes the fd once queued frames are written: a worker then reads end of file.
    package func finish() {
        let closeNow = state.withLock { state -> Bool in
            state.closeWhenFlushed = true
            return state.queuedBytes == 0
        }
        if closeNow { close() }
    }

    /// Closes the fd now, dropping queued frames.
    package func close() {
        let waiters = state.withLock { state -> [RoomWaiters.Waiter] in
            state.close()
            return state.roomWaiters.takeAll()
        }
        waiters.forEach { $0.resume(returning: false) }
    }

    private func waitForRoom(_ state: inout State) {
        if let token = state.token {
            EventLoop.shared.arm(token, writing: true)
        } else {
            state.token = EventLoop.shared.add(state.fd, writing: true, once: true, waking: self, on: queue) { $0.flush() }
        }
    }

    private func flush() {
        enum Next { case wait, failed, flushed }
        let (next, ready) = state.withLock { state -> (Next, [RoomWaiters.Waiter]) in
            guard state.fd >= 0 else { return (.failed, []) }
            var next = Next.flushed
            while let (batch, offset) = state.nextBatch(upTo: Self.batchSize) {
                guard let n = Self.write(batch, from: offset, fd: state.fd) else {
                    next = .failed
                    break
                }
                state.consume(n - offset)
                if n < batch.count {
                    waitForRoom(&state)
                    next = .wait
                    break
                }
            }
            return (next, state.roomWaiters.takeReady(queued: state.queuedBytes))
        }
        ready.forEach { $0.resume(returning: true) }
        if next == .failed || (next == .flushed && state.withLock({ $0.closeWhenFlushed })) { close() }
    }

    /// Writes as much of `bytes[offset...]` as the fd takes now: the offset reached, or nil on an
    /// error other than EAGAIN.
    private static func write(_ bytes: [UInt8], from offset: Int, fd: Int32) -> Int? {
        let progress = bytes.withUnsafeBytes { writeAll(fd, $0, from: offset) }
        return progress.failure == nil || progress.failure == EAGAIN ? progress.offset : nil
    }
}
