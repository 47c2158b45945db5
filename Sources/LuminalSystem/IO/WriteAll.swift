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
    writeRepeatedly(from: start, to: bytes.count) { offset in
        let pointer = bytes.baseAddress! + offset
        return sendFlags.map { send(fd, pointer, bytes.count - offset, $0) } ?? write(fd, pointer, bytes.count - offset)
    }
}

/// Calls `attempt` with the offset reached (a write or send from there, returning its count or
/// -1 with `errno`) until `end` is reached, the descriptor would block, or a write fails; EINTR
/// is retried.
package func writeRepeatedly(from start: Int, to end: Int, _ attempt: (Int) -> Int) -> WriteProgress {
    var offset = start
    while offset < end {
        let count = attempt(offset)
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
