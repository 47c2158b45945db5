#if canImport(Glibc)
import Glibc
#endif

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
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}
