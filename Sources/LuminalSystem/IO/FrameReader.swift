import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import LuminalWire

/// Reads frames from a worker's fd 4 (or a control client's socket), woken by the event loop,
/// reading on the owner's queue, and decodes each into a `Message` (a worker's `WorkerMessage`,
/// a control request's `JSONMembers`).
///
/// Every callback runs on that queue. After a fault or the end of the stream nothing more is
/// delivered and the descriptor is closed.
package final class FrameReader<Message>: @unchecked Sendable {
    // Confined to `queue`: `decoder`, `finished`, `token`.
    private var decoder: FrameDecoder
    private var finished = false
    private var token: EventLoop.Token?
    private let turn = QueuedTurn()
    private let fd: Int32
    private let queue: DispatchQueue
    private let decode: @Sendable (inout FrameDecoder) throws(ProtocolFault) -> Message?
    private let onMessage: @Sendable (Message) -> Void
    private let onFault: @Sendable (ProtocolFault) -> Void
    private let onEnd: @Sendable (ProtocolFault?) -> Void

    /// Prepares to read `fd` (made non-blocking). `decode` takes the next frame's message from
    /// the decoder (nil when no whole frame is buffered), and `onMessage` receives it. Exactly
    /// one of the others ends the stream: `onFault` for bytes that break the protocol (a frame
    /// `decode` refuses included), `onEnd` at end of file (with a truncated-frame fault if it
    /// fell inside a frame).
    package init(fd: Int32, cap: Int, queue: DispatchQueue,
         decode: @escaping @Sendable (inout FrameDecoder) throws(ProtocolFault) -> Message?,
         onMessage: @escaping @Sendable (Message) -> Void,
         onFault: @escaping @Sendable (ProtocolFault) -> Void,
         onEnd: @escaping @Sendable (ProtocolFault?) -> Void) throws(SystemError) {
        try setNonBlocking(fd)
        self.fd = fd
        self.queue = queue
        self.decode = decode
        self.onMessage = onMessage
        self.onFault = onFault
        self.onEnd = onEnd
        decoder = FrameDecoder(cap: cap)
    }

    /// Starts watching the fd. Call on the queue.
    ///
    /// The event loop runs each read right on its own thread, inside `queue.sync`: a reply is
    /// read, decoded and its caller resumed without a hop to another thread, still exclusive with
    /// the owner's other work on the queue. Sound because nothing on the queue of a worker or a
    /// control connection waits for the event loop's thread (their blocks read, write and reap
    /// without blocking, take locks the loop's thread never holds while it waits, and hand
    /// everything else on by `async` or to tasks), and because each block there is short: a
    /// read takes a few chunks per turn (`ReadTurn.frameReadsPerTurn`), as do the output pipes.
    package func activate() {
        token = EventLoop.shared.add(fd, inside: queue, running: self) { reader in
            // A turn already queued reads what came.
            if !reader.turn.isQueued { reader.readTurn() }
        }
        readAvailable()
    }

    deinit {
        if !finished {
            token.map(EventLoop.shared.remove)
            closeQuietly(fd)
        }
    }

    /// Reads and delivers everything available now. Call on the queue.
    package func readAvailable() {
        _ = read(reads: .max)
    }

    /// Reads one turn's worth; what is left is read in the queue's later turns (one queued at a time).
    private func readTurn() {
        turn.begin()
        guard read(reads: ReadTurn.frameReadsPerTurn), turn.claim() else { return }
        queue.async { [weak self] in self?.readTurn() }
    }

    /// Reads and delivers up to `reads` chunks: true if more may be waiting.
    private func read(reads: Int) -> Bool {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !finished else { return false }
        let turn = readChunks(fd, reads: reads) { bytes in
            decoder.append(bytes)
            deliverFrames()
            return !finished
        }
        switch turn {
        case .more:
            return true
        case .exhausted, .stopped:
            break
        case .end:
            do throws(ProtocolFault) {
                try decoder.finish()
                end(nil)
            } catch {
                end(error)
            }
        case .failed(let code):
            end(ProtocolFault(.closedProtocolPipe, "reading fd 4 failed: errno \(code)"))
        }
        return false
    }

    private func deliverFrames() {
        do throws(ProtocolFault) {
            while !finished, let message = try decode(&decoder) {
                onMessage(message)
            }
        } catch {
            guard !finished else { return }
            stop()
            onFault(error)
        }
    }

    /// Lets go of the read buffer if every byte read is delivered. Call on the queue.
    package func releaseBuffer() {
        dispatchPrecondition(condition: .onQueue(queue))
        decoder.releaseStorageIfConsumed()
    }

    /// Stops delivering and closes the fd; used after the worker faulted for another reason.
    package func stop() {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !finished else { return }
        finished = true
        token.map(EventLoop.shared.remove)
        closeQuietly(fd)
    }

    private func end(_ fault: ProtocolFault?) {
        guard !finished else { return }
        stop()
        onEnd(fault)
    }
}
