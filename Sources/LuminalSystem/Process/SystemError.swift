#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: the operation and the `errno` it returned.
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was being done, e.g. `posix_spawn /path/to/worker`.
    public let operation: String
    /// The `errno` value.
    public let errno: Int32

    /// The failure of `operation` with `errno`. The number comes first and has no default: a call
    /// site reads it (`SystemError(errno: errno, "open \(path)")`) before it builds the text, whose
    /// interpolation may allocate and so change `errno`.
    package init(errno: Int32, _ operation: String) {
        self.operation = operation
        self.errno = errno
    }

    /// The operation and the system's text for the error number.
    public var description: String {
        "\(operation): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// Runs `body` until it returns something other than -1 with `EINTR`; throws on any other failure.
@discardableResult
func retryingEINTR(_ operation: @autoclosure () -> String, _ body: () -> Int32) throws(SystemError) -> Int32 {
    while true {
        let result = body()
        if result != -1 { return result }
        let failure = errno
        if failure != EINTR { throw SystemError(errno: failure, operation()) }
    }
}

/// Closes `fd`, ignoring errors: used in teardown where nothing better can be done.
package func closeQuietly(_ fd: Int32) {
    if fd >= 0 { _ = close(fd) }
}
