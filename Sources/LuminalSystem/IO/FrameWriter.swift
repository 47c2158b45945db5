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
    /// queued bytes past `limit`. A frame sent while nothing waits and no other sender writes is
    /// written at once by its sender, outside the lock (other senders meanwhile queue theirs and
    /// return); the sender then writes what they queued, with the lock held, as `flush` does.
    package func send(frame: [UInt8], tag: Int64? = nil, limit: Int? = nil) -> Outcome {
        enum Admission { case refused(Outcome), queued, direct(Int32) }
        let admission = state.withLock { state -> Admission in
            guard state.fd >= 0, !state.closeWhenFlushed else { return .refused(.closed) }
            if let limit, state.queuedBytes > 0, state.queuedBytes + frame.count > limit {
                return .refused(.overLimit(queued: state.queuedBytes))
            }
            guard state.queuedBytes == 0, !state.writing else {
                state.append(frame, tag: tag, written: 0)
                return .queued
            }
            state.writing = true
            return .direct(state.fd)
        }
        guard case .direct(let fd) = admission else {
            if case .refused(let outcome) = admission { return outcome }
            return .sent
        }
        let reached = Self.write(frame, from: 0, fd: fd)
        let (next, ready) = state.withLock { state -> (FlushEnd, [RoomWaiters.Waiter]) in
            state.writing = false
            if state.closeDeferred() { return (.failed, []) }
            guard let reached else { return (.failed, []) }
            if reached < frame.count {
                state.prepend(frame, written: reached)
                waitForRoom(&state)
                return (.wait, [])
            }
            return drain(&state)
        }
        finishFlush(next, ready)
        return .sent
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

    /// How a flush of the queued frames ended.
    private enum FlushEnd { case wait, failed, flushed }

    /// The pipe has room again: writes what waits, unless a sender is writing (it writes what
    /// waits after its own frame).
    private func flush() {
        let (next, ready) = state.withLock { state -> (FlushEnd, [RoomWaiters.Waiter]) in
            guard state.fd >= 0 else { return (.failed, []) }
            guard !state.writing else { return (.wait, []) }
            return drain(&state)
        }
        finishFlush(next, ready)
    }

    /// Writes the queued frames, in batches, until none is left or the pipe is full (then the
    /// event loop is asked to say when it has room). Under the lock.
    private func drain(_ state: inout State) -> (FlushEnd, [RoomWaiters.Waiter]) {
        var next = FlushEnd.flushed
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

    /// After a flush, outside the lock: wakes the room waiters, and closes the writer if a write
    /// failed or every frame is written and `finish` asked for it.
    private func finishFlush(_ next: FlushEnd, _ ready: [RoomWaiters.Waiter]) {
        ready.forEach { $0.resume(returning: true) }
        if next == .failed || (next == .flushed && state.withLock({ $0.closeWhenFlushed && $0.queuedBytes == 0 })) { close() }
    }

    /// Writes as much of `bytes[offset...]` as the fd takes now: the offset reached, or nil on an
    /// error other than EAGAIN.
    private static func write(_ bytes: [UInt8], from offset: Int, fd: Int32) -> Int? {
        let progress = bytes.withUnsafeBytes { writeAll(fd, $0, from: offset) }
        return progress.failure == nil || progress.failure == EAGAIN ? progress.offset : nil
    }
}
