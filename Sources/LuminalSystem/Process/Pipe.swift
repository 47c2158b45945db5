#if canImport(Glibc)
import Glibc
#endif
import _LuminalCShims

/// The two ends of a close-on-exec pipe.
struct Pipe {
    /// The end that reads.
    let readEnd: Int32
    /// The end that writes.
    let writeEnd: Int32

    /// A new pipe created with `O_CLOEXEC`, so it never leaks into a spawned worker by accident.
    static func make() throws(SystemError) -> Pipe {
        var fds: [Int32] = [-1, -1]
        try retryingEINTR("pipe2") { luminal_pipe2(&fds, O_CLOEXEC) }
        return Pipe(readEnd: fds[0], writeEnd: fds[1])
    }
}

/// Sets `O_NONBLOCK` on `fd`, for ends the supervisor drives from Dispatch sources.
func setNonBlocking(_ fd: Int32) throws(SystemError) {
    let flags = fcntl(fd, F_GETFL)
    if flags == -1 { throw SystemError(errno: errno, "fcntl(F_GETFL)") }
    if fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1 { throw SystemError(errno: errno, "fcntl(F_SETFL)") }
}
