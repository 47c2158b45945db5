#if canImport(Glibc)
import Glibc
#endif

/// Writes `text` to fd 2 in one call (the C `stderr` global is not concurrency-safe in Swift 6).
package func writeStandardError(_ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return }
        offset += n
    }
}
