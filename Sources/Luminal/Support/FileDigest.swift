import Glibc

/// SHA-256 of the contents of one or more files, read in chunks.
enum FileDigest {
    /// Hex digest of the concatenated contents of `paths`.
    static func sha256(of paths: [String]) throws(SystemError) -> String {
        var digest = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        for path in paths {
            let fd = try retryingEINTR("open \(path)") { open(path, O_RDONLY | O_CLOEXEC) }
            defer { close(fd) }
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw SystemError("read \(path)")
                }
                if n == 0 { break }
                buffer.withUnsafeBytes { digest.update(UnsafeRawBufferPointer(rebasing: $0.prefix(n))) }
            }
        }
        return digest.finalizeHex()
    }
}
