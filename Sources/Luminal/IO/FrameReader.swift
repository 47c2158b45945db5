import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import LuminalWire

/// Reads frames from a worker's fd 4, woken by the event loop, reading on the worker's queue.
///
/// Every callback runs on that queue. After a fault or the end of the stream nothing more is
/// delivered and the descriptor is closed.
final class FrameReader: @unchecked Sendable {
    // Confined to `queue`: `decoder`, `finished`, `token`.
    private var decoder: FrameDecoder
    private var finished = false
    private var token: EventLoop.Token?
    private let fd: Int32
    private let queue: DispatchQueue
    private let onObject: @Sendable ([String: JSONValue]) -> Void
    private let onFault: @Sendable (ProtocolFault) -> Void
    private let onEnd: @Sendable (ProtocolFault?) -> Void

    /// Prepares to read `fd` (made non-blocking). `onObject` receives each frame's object.
    /// Exactly one of the others ends the stream: `onFault` for bytes that break the protocol,
    /// `onEnd` at end of file (with a truncated-frame fault if it fell inside a frame).
    init(fd: Int32, cap: Int, queue: DispatchQueue,
         onObject: @escaping @Sendable ([String: JSONValue]) -> Void,
         onFault: @escaping @Sendable (ProtocolFault) -> Void,
         onEnd: @escaping @Sendable (ProtocolFault?) -> Void) throws(SystemError) {
        try setNonBlocking(fd)
        self.fd = fd
        self.queue = queue
        self.onObject = onObject
        self.onFault = onFault
        self.onEnd = onEnd
        decoder = FrameDecoder(cap: cap)
    }

    /// Starts watching the fd. Call on the queue.
    func activate() {
        token = EventLoop.shared.add(fd, waking: self, on: queue) { $0.drain() }
        drain()
    }

    deinit {
        if !finished {
            token.map(EventLoop.shared.remove)
            closeQuietly(fd)
        }
    }

    /// Reads and delivers everything available now. Call on the queue.
    func drain() {
        dispatchPrecondition(condition: .onQueue(queue))
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while !finished {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                chunk.withUnsafeBytes { decoder.append(UnsafeRawBufferPointer(rebasing: $0.prefix(n))) }
                deliverFrames()
            } else if n == 0 {
                do throws(ProtocolFault) {
                    try decoder.finish()
                    end(nil)
                } catch {
                    end(error)
                }
            } else if errno == EINTR {
                continue
            } else {
                let failure = errno
                if failure != EAGAIN { end(ProtocolFault(.closedProtocolPipe, "reading fd 4 failed: errno \(failure)")) }
                return
            }
        }
    }

    private func deliverFrames() {
        do throws(ProtocolFault) {
            while !finished, let object = try decoder.nextObject() {
                onObject(object)
            }
        } catch {
            guard !finished else { return }
            stop()
            onFault(error)
        }
    }

    /// Stops delivering and closes the fd; used after the worker faulted for another reason.
    func stop() {
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
