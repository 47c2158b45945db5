#if canImport(Glibc)
import Glibc
#endif
import LuminalSystem

/// One log file that is rotated by size: `name.log`, then `name.log.1` (newest) … `name.log.N`.
///
/// Only used on `LogFiles`' queue. Every file is opened, renamed and removed relative to the log
/// folder (`OwnedFolder`), never through a symlink, and only a regular file with one link owned
/// by the supervisor's user is written. Writes whole lines only: a write that fails half-way is
/// cut back (`ftruncate`) to where it started, so a line is written entirely or not at all, and a
/// rotation happens only between lines.
final class RotatingFile {
    /// The current file's name in the log folder (`name.log`).
    let name: String
    private let maxBytes: Int
    private let keep: Int
    private var fd: Int32 = -1
    private var size = 0
    /// The device and inode of the open file, to see that it was removed or replaced.
    private var identity: (dev_t, ino_t) = (0, 0)
    /// How many rotated files there are (`name.log.1` …), once looked for.
    private var rotated: Int?

    init(name: String, maxBytes: Int, keep: Int) {
        self.name = name
        self.maxBytes = maxBytes
        self.keep = keep
    }

    deinit { closeQuietly(fd) }

    /// Appends `lines` (each ending in a newline) to the file in `folder`, rotating between them
    /// as the size requires. Returns how many were written, or the error that stopped the rest.
    func write(_ lines: [[UInt8]], in folder: OwnedFolder) -> (written: Int, error: SystemError?) {
        var written = 0
        var batch: [UInt8] = []
        var batchLines = 0
        do throws(SystemError) {
            try openIfNeeded(in: folder)
            for line in lines {
                if size + batch.count + line.count > maxBytes, size + batch.count > 0 {
                    try append(batch, in: folder)
                    written += batchLines
                    batch = []
                    batchLines = 0
                    try rotate(in: folder)
                }
                batch += line
                batchLines += 1
            }
            try append(batch, in: folder)
            return (written + batchLines, nil)
        } catch {
            return (written, error)
        }
    }

    /// Closes the file if `folder` no longer holds it under its name (removed, renamed, or the
    /// folder was opened again), so the next write opens it again (or reports why it cannot).
    func checkStillThere(in folder: OwnedFolder) {
        guard fd >= 0 else { return }
        guard let info = folder.status(of: name), info.st_dev == identity.0, info.st_ino == identity.1 else { return closeFile() }
    }

    private func openIfNeeded(in folder: OwnedFolder) throws(SystemError) {
        guard fd < 0 else { return }
        let (opened, info) = try folder.openOwnFile(name, O_WRONLY | O_APPEND | O_CREAT)
        fd = opened
        size = Int(info.st_size)
        identity = (info.st_dev, info.st_ino)
    }

    private func append(_ bytes: [UInt8], in folder: OwnedFolder) throws(SystemError) {
        let progress = bytes.withUnsafeBytes { writeAll(fd, $0) }
        if let failure = progress.failure {
            // Nothing of a failed batch stays: no line is left cut short.
            if progress.offset > 0 { _ = ftruncate(fd, off_t(size)) }
            throw SystemError(errno: failure, "write \(folder.path(of: name))")
        }
        size += bytes.count
    }

    /// `name.log.(N-1)` → `name.log.N` … `name.log` → `name.log.1`, then a new `name.log`.
    /// Only the files there are are renamed: the cost follows the files kept, not the limit.
    private func rotate(in folder: OwnedFolder) throws(SystemError) {
        closeFile()
        var count = rotated ?? 0
        if rotated == nil {
            while count < keep, folder.status(of: "\(name).\(count + 1)") != nil { count += 1 }
        }
        if count == keep {
            folder.remove("\(name).\(keep)")
            count -= 1
        }
        for index in stride(from: count, through: 1, by: -1) { folder.rename("\(name).\(index)", to: "\(name).\(index + 1)") }
        if keep > 0 { folder.rename(name, to: "\(name).1") } else { folder.remove(name) }
        rotated = min(keep, count + 1)
        try openIfNeeded(in: folder)
    }

    private func closeFile() {
        closeQuietly(fd)
        fd = -1
        size = 0
    }
}
