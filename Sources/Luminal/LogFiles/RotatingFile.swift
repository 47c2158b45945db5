#if canImport(Glibc)
import Glibc
#endif

/// One log file that is rotated by size: `name.log`, then `name.log.1` (newest) … `name.log.N`.
///
/// Only used on `LogFiles`' queue. Writes whole lines only: a write that fails half-way is cut
/// back (`ftruncate`) to where it started, so a line is written entirely or not at all, and a
/// rotation happens only between lines.
final class RotatingFile {
    /// Where the current file is.
    let path: String
    private let maxBytes: Int
    private let keep: Int
    private var fd: Int32 = -1
    private var size = 0
    /// The device and inode of the open file, to see that it was removed or replaced.
    private var identity: (dev_t, ino_t) = (0, 0)
    private var regular = true
    /// How many rotated files there are (`name.log.1` …), once looked for.
    private var rotated: Int?

    init(path: String, maxBytes: Int, keep: Int) {
        self.path = path
        self.maxBytes = maxBytes
        self.keep = keep
    }

    deinit { closeQuietly(fd) }

    /// Appends `lines` (each ending in a newline), rotating between them as the size requires.
    /// Returns how many were written, or the error that stopped the rest.
    func write(_ lines: [[UInt8]]) -> (written: Int, error: SystemError?) {
        var written = 0
        var batch: [UInt8] = []
        var batchLines = 0
        do throws(SystemError) {
            try openIfNeeded()
            for line in lines {
                if regular, size + batch.count + line.count > maxBytes, size + batch.count > 0 {
                    try append(batch)
                    written += batchLines
                    batch = []
                    batchLines = 0
                    try rotate()
                }
                batch += line
                batchLines += 1
            }
            try append(batch)
            return (written + batchLines, nil)
        } catch {
            return (written, error)
        }
    }

    /// Closes the file if the path no longer names it (removed, renamed, folder gone), so the next
    /// write opens it again (or reports why it cannot).
    func checkStillThere() {
        guard fd >= 0 else { return }
        var info = stat()
        if stat(path, &info) != 0 || info.st_dev != identity.0 || info.st_ino != identity.1 { closeFile() }
    }

    private func openIfNeeded() throws(SystemError) {
        guard fd < 0 else { return }
        let opened = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0o644)
        guard opened >= 0 else { throw SystemError(errno: errno, "open \(path)") }
        var info = stat()
        fstat(opened, &info)
        fd = opened
        size = Int(info.st_size)
        identity = (info.st_dev, info.st_ino)
        regular = info.st_mode & S_IFMT == S_IFREG
    }

    private func append(_ bytes: [UInt8]) throws(SystemError) {
        var done = 0
        while done < bytes.count {
            let count = bytes[done...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                let failure = count < 0 ? errno : ENOSPC
                // Nothing of a failed batch stays: no line is left cut short.
                if regular, done > 0 { _ = ftruncate(fd, off_t(size)) }
                throw SystemError(errno: failure, "write \(path)")
            }
            done += count
        }
        size += bytes.count
    }

    /// `name.log.(N-1)` → `name.log.N` … `name.log` → `name.log.1`, then a new `name.log`.
    /// Only the files there are are renamed: the cost follows the files kept, not the limit.
    private func rotate() throws(SystemError) {
        closeFile()
        var count = rotated ?? 0
        if rotated == nil {
            while count < keep, access("\(path).\(count + 1)", F_OK) == 0 { count += 1 }
        }
        if count == keep {
            _ = unlink("\(path).\(keep)")
            count -= 1
        }
        for index in stride(from: count, through: 1, by: -1) { _ = rename("\(path).\(index)", "\(path).\(index + 1)") }
        if keep > 0 { _ = rename(path, "\(path).1") } else { _ = unlink(path) }
        rotated = min(keep, count + 1)
        try openIfNeeded()
    }

    private func closeFile() {
        closeQuietly(fd)
        fd = -1
        size = 0
    }
}
