#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// SHA-256 of the contents of one or more files, read in chunks.
///
/// Digests of files that have not changed for a while are remembered by the files' identity
/// (device, inode, size, modification and change times), so loading the same binary again does
/// not hash it again. A file written in the last second is always hashed: its times may not yet
/// tell one write from the next (the kernel's file clock is coarse).
///
/// Only regular files are hashed: each is opened without blocking (a FIFO cannot hold up
/// open(2)) and refused unless fstat(2) says it is a regular file, so a device such as
/// /dev/zero is never read. The files of one digest may hold `maxBytes` (1 GiB) at most.
package enum FileDigest {
    /// The most bytes one digest reads: a photon file and the files it counts, together.
    package static let maxBytes: Int64 = 1 << 30
    /// Bytes read to hash, since the process started (the cost of watching and loading).
    package static var bytesHashed: UInt64 { hashed.load(ordering: .relaxed) }
    private static let hashed = Atomic<UInt64>(0)

    /// Hex digest of the concatenated contents of `paths`, hashed on the file-work queue (never
    /// on the caller's actor); abandoned, with `ECANCELED`, when one of `cancellations` or of
    /// the task's `HashCancellation.scope` cancels.
    package static func digest(of paths: [String], cancellations: [HashCancellation] = []) async throws(SystemError) -> String {
        // A settled file seen before costs a stat per path: answered here, without a thread hop.
        if let remembered = remembered(paths, as: identities(of: paths)) { return remembered }
        let watched = cancellations + HashCancellation.scope
        let marks = watched.map(\.mark)
        return try await FileWork.run { () throws(SystemError) -> String in
            try sha256(of: paths) { zip(watched, marks).contains { $0.isCancelled(since: $1) } }
        }
    }

    /// Hex digest of the concatenated contents of `paths`, hashed here; `abandoned` is asked
    /// between chunks whether to give up.
    static func sha256(of paths: [String], abandoned: () -> Bool = { false }) throws(SystemError) -> String {
        let known = identities(of: paths)
        if let remembered = remembered(paths, as: known) { return remembered }
        let digest = try hash(paths, abandoned: abandoned)
        if let known, known.allSatisfy(\.isSettled) {
            cache.withLock { cache in
                if cache.count >= maxRemembered { cache.removeAll() }
                cache[paths] = (known, digest)
            }
        }
        return digest
    }

    /// The remembered digest of `paths`, if they still have the identities `known` it was taken at.
    private static func remembered(_ paths: [String], as known: [FileIdentity]?) -> String? {
        guard let known else { return nil }
        return cache.withLock { $0[paths].flatMap { $0.identities == known ? $0.digest : nil } }
    }

    /// The identities of `paths`, or nil when one cannot be read.
    private static func identities(of paths: [String]) -> [FileIdentity]? {
        let identities = paths.map(FileIdentity.init(path:))
        return identities.contains(nil) ? nil : identities.compactMap { $0 }
    }

    /// How many digests are remembered at most.
    private static let maxRemembered = 4096
    static let cache = Mutex<[[String]: (identities: [FileIdentity], digest: String)]>([:])

    private static func hash(_ paths: [String], abandoned: () -> Bool) throws(SystemError) -> String {
        // Every file is opened and measured first: files too large together are refused before
        // a byte of any is read.
        var opened: [(path: String, fd: Int32)] = []
        defer { opened.forEach { close($0.fd) } }
        var size: Int64 = 0
        for path in paths {
            let fd = try retryingEINTR("open \(path)") { open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC) }
            opened.append((path, fd))
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw SystemError(errno: errno, "fstat \(path)") }
            guard info.st_mode & S_IFMT == S_IFREG else {
                throw SystemError(errno: EINVAL, "hash \(path): only regular files are read, and this is not one")
            }
            size += Int64(info.st_size)
            guard size <= maxBytes else { throw tooLarge(path) }
        }
        var digest = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var total: Int64 = 0
        for (path, fd) in opened {
            while true {
                if abandoned() { throw SystemError(errno: ECANCELED, "hash \(path): abandoned, the loader is stopping") }
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw SystemError(errno: errno, "read \(path)")
                }
                if n == 0 { break }
                total += Int64(n)
                hashed.add(UInt64(n), ordering: .relaxed)
                guard total <= maxBytes else { throw tooLarge(path) }
                buffer.withUnsafeBytes { digest.update(UnsafeRawBufferPointer(rebasing: $0.prefix(n))) }
            }
        }
        return digest.finalizeHex()
    }

    private static func tooLarge(_ path: String) -> SystemError {
        SystemError(errno: EFBIG, "hash \(path): more than 1 GiB to read (a photon file and the files it counts may hold 1 GiB together)")
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
