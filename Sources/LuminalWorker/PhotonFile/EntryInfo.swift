#if canImport(Glibc)
import Glibc
#endif
import LuminalSystem

/// What a folder entry is, seen both as itself (lstat) and through a symlink (stat), without
/// opening it.
package struct EntryInfo {
    /// The entry is a symlink.
    let isSymlink: Bool
    /// What it names (through the symlink, if it is one).
    package let kind: FileKind
    /// The `errno` of stat(2) when `kind` is `.missing` (`ELOOP` for a symlink loop).
    package let failure: Int32
    /// The device and inode of what it names: one file reached by two paths has the same.
    package let identity: [UInt64]
    /// For `.other`: "a FIFO", "a socket", "a character device" or "a block device".
    let otherKind: String

    /// Looks at `path`; a path that does not exist at all is `.missing` and not a symlink.
    package init(path: String) {
        var link = stat(), info = stat()
        isSymlink = lstat(path, &link) == 0 && link.st_mode & S_IFMT == S_IFLNK
        let found = stat(path, &info) == 0
        failure = found ? 0 : errno
        identity = [UInt64(info.st_dev), UInt64(info.st_ino)]
        switch found ? info.st_mode & S_IFMT : 0 {
        case 0: kind = .missing
        case S_IFDIR: kind = .directory
        case S_IFREG: kind = .regular
        default: kind = .other
        }
        otherKind = switch info.st_mode & S_IFMT {
        case S_IFIFO: "a FIFO"
        case S_IFSOCK: "a socket"
        case S_IFCHR: "a character device"
        default: "a block device"
        }
    }

    /// A folder reached without a symlink: the only kind a scan descends into.
    package var isRealDirectory: Bool { kind == .directory && !isSymlink }
}
