#if canImport(Glibc)
import Glibc
#endif

/// How far `writeAll` got.
package struct WriteProgress: Sendable {
    /// The offset reached: every byte before it is written.
    package let offset: Int
    /// Why it stopped short (EAGAIN when the descriptor would block, ENOSPC when a write took
    /// nothing); nil when everything is written.
    package let failure: Int32?
}

/// Writes `bytes` from `start` to `fd` until everything is written, the descriptor would block,
/// or a write fails; EINTR is retried. With `sendFlags`, a socket is written with `send` and
/// those flags (`MSG_NOSIGNAL`, so that a peer that hung up is EPIPE, not SIGPIPE).
package func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, from start: Int = 0, sendFlags: Int32? = nil) -> WriteProgress {
    var offset = start
    while offset < bytes.count {
        let pointer = bytes.baseAddress! + offset
        let count = sendFlags.map { send(fd, pointer, bytes.count - offset, $0) } ?? write(fd, pointer, bytes.count - offset)
        if count > 0 {
            offset += count
        } else if count < 0 && errno == EINTR {
            continue
        } else {
            return WriteProgress(offset: offset, failure: count < 0 ? errno : ENOSPC)
        }
    }
    return WriteProgress(offset: offset, failure: nil)
}
