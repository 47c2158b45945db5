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
final class FrameOutput: Sendable {
    private struct Queue {
        var frames: [UInt8] = []
        var writing = false
    }

    private let queue = Mutex(Queue())
    private let fd: Int32
    private let cap: Int

    init(fd: Int32, cap: Int) {
        self.fd = fd
        self.cap = cap
    }

    /// Queues `value` as one frame and makes sure it is written; a frame over the cap is replaced
    /// by `oversize(value)` if given.
    func send(_ value: JSONValue, oversize: ((Int) -> JSONValue)? = nil) {
        var frame = Frame.encode(value)
        if frame.count - Frame.headerSize > cap, let oversize {
            frame = Frame.encode(oversize(frame.count - Frame.headerSize))
        }
        let writer = queue.withLock { queue -> Bool in
            queue.frames += frame
            if queue.writing { return false }
            queue.writing = true
            return true
        }
        guard writer else { return }
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
