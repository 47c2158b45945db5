#if canImport(Glibc)
import Glibc
#endif

/// Sends the bytes of `pieces`, taken one after the other, from offset `start` up to `end`, to
/// the socket `fd` with `sendmsg` (one call for every piece left, so a short head and its body
/// leave in the same segments) until everything is sent, the socket would block, or a send
/// fails; EINTR is retried. `flags` as for `send` (`MSG_DONTWAIT | MSG_NOSIGNAL`).
package func sendPieces(_ fd: Int32, _ pieces: [[UInt8]], from start: Int, to end: Int, flags: Int32) -> WriteProgress {
    writeRepeatedly(from: start, to: end) { offset in
        withBuffers(pieces[...], []) { buffers -> Int in
            var vectors: [iovec] = []
            var base = 0
            for buffer in buffers {
                let from = max(offset, base), to = min(end, base + buffer.count)
                if from < to {
                    vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: buffer.baseAddress! + (from - base)), iov_len: to - from))
                }
                base += buffer.count
            }
            return vectors.withUnsafeMutableBufferPointer { vectors in
                var message = msghdr()
                message.msg_iov = vectors.baseAddress
                message.msg_iovlen = vectors.count
                return sendmsg(fd, &message, flags)
            }
        }
    }
}

/// Calls `body` with the bytes of every piece at once.
private func withBuffers<Result>(_ pieces: ArraySlice<[UInt8]>, _ buffers: [UnsafeRawBufferPointer], _ body: ([UnsafeRawBufferPointer]) -> Result) -> Result {
    guard let first = pieces.first else { return body(buffers) }
    return first.withUnsafeBytes { withBuffers(pieces.dropFirst(), buffers + [$0], body) }
}
