import Glibc
import LuminalWire
import Synchronization

/// Writes whole frames to fd 4, one at a time.
final class FrameOutput: Sendable {
    private let lock = Mutex<Void>(())
    private let fd: Int32
    private let cap: Int

    init(fd: Int32, cap: Int) {
        self.fd = fd
        self.cap = cap
    }

    /// Writes `value` as one frame; a frame over the cap is replaced by `oversize(value)` if given.
    func send(_ value: JSONValue, oversize: ((Int) -> JSONValue)? = nil) {
        var frame = Frame.encode(value)
        if frame.count - Frame.headerSize > cap, let oversize {
            frame = Frame.encode(oversize(frame.count - Frame.headerSize))
        }
        lock.withLock { _ in
            var offset = 0
            while offset < frame.count {
                let n = frame.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
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
}
