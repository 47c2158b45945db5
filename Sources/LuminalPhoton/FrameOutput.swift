#if canImport(Glibc)
import Glibc
#endif
import LuminalWire
import Synchronization

/// Writes whole frames to fd 4, in the order they are sent, from any thread.
///
/// The lock is never held across `write(2)`: a sender queues its frame, and if no other sender is
/// writing it becomes the writer and writes everything queued, its own frame and those that
/// arrived meanwhile, in as few system calls as it can. Concurrent replies then share one write
/// instead of each waiting (spinning) for the previous one's.
///
/// The reading thread corks the output while it handles one read's frames: its own frames are
/// then only queued, and leave with the next write, at the latest when it uncorks. Frames sent
/// from any other thread are written at once, with whatever is queued.
final class FrameOutput: Sendable {
    private struct Queue {
        var frames: [UInt8] = []
        var writing = false
        /// The thread whose frames are only queued until it uncorks.
        var corked: pthread_t?

        /// Makes the caller the writer if there is something to write and no writer.
        mutating func claimWriter() -> Bool {
            guard !writing, !frames.isEmpty else { return false }
            writing = true
            return true
        }
    }

    private let queue = Mutex(Queue())
    private let fd: Int32
    /// The largest frame payload the supervisor reads.
    let cap: Int

    init(fd: Int32, cap: Int) {
        self.fd = fd
        self.cap = cap
    }

    /// Queues `message` as one frame and makes sure it is written; a frame over the cap is
    /// replaced by `oversize(size)` if given.
    func send(_ message: WorkerMessage, oversize: ((Int) -> WorkerMessage)? = nil) {
        var frame = message.frame
        if frame.count - Frame.headerSize > cap, let oversize {
            frame = oversize(frame.count - Frame.headerSize).frame
        }
        send(frame: frame)
    }

    /// Queues a whole frame and makes sure it is written.
    func send(frame: [UInt8]) {
        let me = pthread_self()
        let writer = queue.withLock { queue -> Bool in
            queue.frames += frame
            if let corked = queue.corked, pthread_equal(corked, me) != 0 { return false }
            return queue.claimWriter()
        }
        if writer { writeQueued() }
    }

    /// Until `uncork`, frames the calling thread sends are only queued; a send from another thread
    /// still writes them, with its own. A `cork` from another thread moves the cork to that thread
    /// (a reader taking over from a stuck one).
    func cork() {
        let me = pthread_self()
        queue.withLock { $0.corked = me }
    }

    /// Ends the cork and writes what is queued, unless another sender is writing it already.
    func uncork() {
        let writer = queue.withLock { queue -> Bool in
            queue.corked = nil
            return queue.claimWriter()
        }
        if writer { writeQueued() }
    }

    /// As the writer: writes everything queued, including frames queued meanwhile, then gives up
    /// the role.
    private func writeQueued() {
        var batch: [UInt8] = []
        while true {
            queue.withLock { queue in
                swap(&batch, &queue.frames)
                queue.frames.removeAll(keepingCapacity: true)
                if batch.isEmpty { queue.writing = false }
            }
            if batch.isEmpty { return }
            writeAll(batch)
        }
    }

    private func writeAll(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n > 0 {
                offset += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                // The supervisor is gone: nobody is left to answer.
                _exit(0)
            }
        }
    }
}
