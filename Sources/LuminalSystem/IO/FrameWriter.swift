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
    /// written at once by its sender; then that sender writes what others queued meanwhile, in
    /// batches. A sender that finds another writing queues its frame and returns. Nothing is
    /// written with the lock held.
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
        let step = state.withLock { state -> WriterStep in
            guard let reached, !state.closeDeferred() else { return Self.endWriting(&state, close: true) }
            if reached < frame.count {
                // The pipe is full: the rest of the frame goes first once it has room.
                state.prepend(frame, written: reached)
                waitForRoom(&state)
                return Self.endWriting(&state)
            }
            return Self.nextBatch(&state)
        }
        writeQueued(from: step)
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

    /// The pipe has room again: writes what waits, unless a sender is writing (it writes what
    /// waits after its own frame).
    private func flush() {
        let step = state.withLock { state -> WriterStep in
            guard state.fd >= 0, !state.writing else { return .done }
            state.writing = true
            return Self.nextBatch(&state)
        }
        writeQueued(from: step)
    }

    /// What the writer does next.
    private enum WriterStep {
        /// Writes `batch[from...]` to `fd`, outside the lock.
        case write([UInt8], from: Int, fd: Int32)
        /// Nothing: its role is over.
        case done
        /// Closes the writer: a write failed, or `finish` asked for it and every frame is written.
        case close
    }

    /// As the writer, from `first`: writes batches of the queued frames until none is left, the
    /// pipe is full (then the event loop calls `flush`), or the writer closes; then gives up the
    /// role, wakes the room waiters, and closes the writer if it must.
    private func writeQueued(from first: WriterStep) {
        var step = first
        var ready: [RoomWaiters.Waiter] = []
        while case .write(let batch, let offset, let fd) = step {
            let reached = Self.write(batch, from: offset, fd: fd)
            step = state.withLock { state -> WriterStep in
                guard let reached, !state.closeDeferred() else { return Self.endWriting(&state, close: true) }
                state.consume(reached - offset)
                ready += state.roomWaiters.takeReady(queued: state.queuedBytes)
                guard reached == batch.count else {
                    waitForRoom(&state)
                    return Self.endWriting(&state)
                }
                return Self.nextBatch(&state)
            }
        }
        ready.forEach { $0.resume(returning: true) }
        if case .close = step { close() }
    }

    /// The writer's next step: the next batch, taken out of the withdrawable frames, or the end
    /// of its role. Under the lock.
    private static func nextBatch(_ state: inout State) -> WriterStep {
        guard let (batch, offset) = state.takeBatch(upTo: batchSize) else { return endWriting(&state) }
        return .write(batch, from: offset, fd: state.fd)
    }

    /// The writer gives up its role: `.close` if it must close the writer (`close`, or every
    /// frame written and `finish` asked for it), else `.done`. Under the lock.
    private static func endWriting(_ state: inout State, close: Bool = false) -> WriterStep {
        state.writing = false
        return close || (state.closeWhenFlushed && state.queuedBytes == 0 && state.fd >= 0) ? .close : .done
    }

    /// Writes as much of `bytes[offset...]` as the fd takes now: the offset reached, or nil on an
    /// error other than EAGAIN.
    private static func write(_ bytes: [UInt8], from offset: Int, fd: Int32) -> Int? {
        let progress = bytes.withUnsafeBytes { writeAll(fd, $0, from: offset) }
        return progress.failure == nil || progress.failure == EAGAIN ? progress.offset : nil
    }
}
