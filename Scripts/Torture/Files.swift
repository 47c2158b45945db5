#if canImport(Glibc)
import Glibc
#endif

/// Writes `text` to `path`, creating its folder.
func writeFile(_ path: String, _ text: String, mode: mode_t = 0o644) {
    let parent = String(path[..<path.lastIndex(of: "/")!])
    mkdir(parent, 0o755)
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
    let failure = errno
    precondition(fd >= 0, "cannot write \(path): errno \(failure)")
    Array(text.utf8).withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
    fchmod(fd, mode)
    close(fd)
}

/// Writes a line to standard output at once (a soak run's progress must show while it runs).
func say(_ line: String) {
    Array((line + "\n").utf8).withUnsafeBytes { _ = write(1, $0.baseAddress, $0.count) }
}
