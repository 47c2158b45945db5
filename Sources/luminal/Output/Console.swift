#if canImport(Glibc)
import Glibc
#endif
import LuminalSystem

/// Unbuffered output, so lines reach a pipe or a journal at once (and without the C `stdout` and
/// `stderr` globals, which are not concurrency-safe in Swift 6).
enum Console {
    /// Writes `text` and a newline to standard output.
    static func out(_ text: String) {
        write(text + "\n", to: 1)
    }

    /// Writes `text` and a newline to standard error.
    static func error(_ text: String) {
        write(text + "\n", to: 2)
    }

    /// Writes `text` as it is to `fd`.
    static func write(_ text: String, to fd: Int32) {
        _ = Array(text.utf8).withUnsafeBytes { writeAll(fd, $0) }
    }
}
