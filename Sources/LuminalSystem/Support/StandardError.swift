#if canImport(Glibc)
import Glibc
#endif

/// Writes `text` to fd 2 in one call (the C `stderr` global is not concurrency-safe in Swift 6).
package func writeStandardError(_ text: String) {
    _ = Array(text.utf8).withUnsafeBytes { writeAll(2, $0) }
}
