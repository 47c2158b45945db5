import Glibc
import Synchronization

/// SHA-256 of the contents of one or more files, read in chunks.
///
/// Digests of files that have not changed for a while are remembered by the files' identity
/// (device, inode, size, modification and change times), so loading the same binary again does
/// not hash it again. A file written in the last second is always hashed: its times may not yet
/// tell one write from the next (the kernel's file clock is coarse).
enum FileDigest {
    /// Hex digest of the concatenated contents of `paths`.
    static func sha256(of paths: [String]) throws(SystemError) -> String {
        let identities = paths.map(FileIdentity.init(path:))
        let known = identities.contains(nil) ? nil : identities.compactMap { $0 }
        if let known, let digest = cache.withLock({ $0[paths].flatMap { $0.identities == known ? $0.digest : nil } }) {
            return digest
        }
        let digest = try hash(paths)
        if let known, known.allSatisfy(\.isSettled) {
            cache.withLock { cache in
                if cache.count >= maxRemembered { cache.removeAll() }
                cache[paths] = (known, digest)
            }
        }
        return digest
    }

    /// How many digests are remembered at most.
    private static let maxRemembered = 4096
    static let cache = Mutex<[[String]: (identities: [FileIdentity], digest: String)]>([:])

    private static func hash(_ paths: [String]) throws(SystemError) -> String {
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

/// What identifies one version of a file without reading it.
struct FileIdentity: Hashable, Sendable {
    let device: UInt64
    let inode: UInt64
    let size: Int64
    let modified: Int64
    let changed: Int64

    /// The identity of the file at `path` (following symlinks), nil if it cannot be read.
    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        changed = Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec)
    }

    /// True when the file was last written or changed more than a second ago.
    var isSettled: Bool {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let limit = Int64(now.tv_sec - 1) * 1_000_000_000 + Int64(now.tv_nsec)
        return modified < limit && changed < limit
    }
}
