#if canImport(Glibc)
import Glibc
#endif

/// `O_PATH` (Linux, every architecture Swift runs on), which Glibc's module leaves out: it needs
/// `_GNU_SOURCE`. A descriptor that names a folder for the `…at` calls, needing no read permission.
private let openPath: Int32 = 0o10000000

/// A folder the supervisor writes files in, opened so that no one else can steer where they go:
/// the log folder, the state file's folder, the control socket's folder, a cgroup.
///
/// `open(_:creating:allowingSticky:)` walks the path from `/` one component at a time, each
/// relative to the folder before it and without following a symlink (`openat`, `O_NOFOLLOW`):
/// every folder on the way, the last one included, must be owned by root or by the supervisor's
/// effective user and writable by no one else (no group or other write bit), except a sticky
/// folder such as `/tmp` on the way (and as the last one with `allowingSticky`). A symlink on the
/// way is followed only when it is owned by root or this user (in a sticky folder anyone may make
/// one) and the folder holding it passed. Files are then made, opened, replaced and removed relative to the folder's
/// descriptor, never through a symlink, so later changes to the path cannot redirect them.
package final class OwnedFolder: Sendable {
    /// Symlinks followed on the way to the folder before giving up (`ELOOP`), as the kernel's own limit.
    package static let symlinkLimit = 40

    /// The path it was opened by, for messages.
    package let path: String
    /// The folder's descriptor (`openPath`), for the `…at` calls.
    package let fd: Int32

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    deinit { closeQuietly(fd) }

    /// Opens the folder at `path` (absolute), checking every folder on the way; makes the last
    /// one with `mode` if it is missing and `mode` is given.
    package static func open(_ path: String, creating mode: mode_t? = nil, allowingSticky: Bool = false) throws(SystemError) -> OwnedFolder {
        var fd = try retryingEINTR("open /") { Glibc.open("/", openPath | O_DIRECTORY | O_CLOEXEC) }
        var pending = ArraySlice(components(Paths.absolute(path)))
        var followed = 0
        // Where the walk is, for messages.
        var walked: [String] = []
        do throws(SystemError) {
            try check(fd, "/", last: pending.isEmpty, allowingSticky: allowingSticky)
            while let name = pending.popFirst() {
                var info = stat()
                if fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) != 0 {
                    let failure = errno
                    guard failure == ENOENT, pending.isEmpty, let mode else { throw SystemError(errno: failure, "open folder \(path)") }
                    guard mkdirat(fd, name, mode) == 0 || errno == EEXIST else { throw SystemError(errno: errno, "make folder \(path)") }
                } else if info.st_mode & S_IFMT == S_IFLNK {
                    // Followed only if root or this user owns it: in a sticky folder such as /tmp,
                    // which passes the check, anyone may have put a symlink.
                    guard info.st_uid == 0 || info.st_uid == geteuid() else {
                        let at = "/" + (walked + [name]).joined(separator: "/")
                        throw SystemError(errno: EPERM, "open folder \(path): \(at) is a symlink owned by uid \(info.st_uid); Luminal follows only symlinks owned by root or by its own user")
                    }
                    followed += 1
                    guard followed <= symlinkLimit else { throw SystemError(errno: ELOOP, "open folder \(path)") }
                    let target = try linkTarget(fd, name, path)
                    if target.hasPrefix("/") {
                        walked = []
                        closeQuietly(fd)
                        fd = try retryingEINTR("open /") { Glibc.open("/", openPath | O_DIRECTORY | O_CLOEXEC) }
                    }
                    pending = ArraySlice(components(target) + pending)
                    continue
                }
                let next = openat(fd, name, openPath | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard next >= 0 else { throw SystemError(errno: errno, "open folder \(path)") }
                closeQuietly(fd)
                fd = next
                if name == ".." { _ = walked.popLast() } else { walked.append(name) }
                try check(fd, "/" + walked.joined(separator: "/"), last: pending.isEmpty, allowingSticky: allowingSticky)
            }
            return OwnedFolder(path: path, fd: fd)
        } catch {
            closeQuietly(fd)
            throw error
        }
    }

    /// A folder of a kernel file system (cgroupfs), whose owners and modes the kernel and the
    /// service manager set: only the last component is opened without following a symlink.
    static func kernel(_ path: String) throws(SystemError) -> OwnedFolder {
        let fd = try retryingEINTR("open folder \(path)") { Glibc.open(path, openPath | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        return OwnedFolder(path: path, fd: fd)
    }

    /// `path` in this folder, for messages.
    package func path(of name: String) -> String {
        Paths.join(path, name)
    }

    /// What is at `name`, without following a symlink; nil if nothing is.
    package func status(of name: String) -> stat? {
        var info = stat()
        return fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 ? info : nil
    }

    /// Opens (and makes, with `O_CREAT` in `flags`) the file `name` for writing, never through a
    /// symlink and without blocking on a FIFO; refuses anything but a regular file with one link
    /// owned by this user: a FIFO, device, socket or symlink planted there, or a hard link to
    /// someone else's file.
    package func openOwnFile(_ name: String, _ flags: Int32, mode: mode_t = 0o640) throws(SystemError) -> (fd: Int32, info: stat) {
        let fd = try openFile(name, flags, mode: mode)
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let failure = errno
            closeQuietly(fd)
            throw SystemError(errno: failure, "fstat \(path(of: name))")
        }
        guard info.st_mode & S_IFMT == S_IFREG, info.st_nlink == 1, info.st_uid == geteuid() else {
            closeQuietly(fd)
            throw refusal(name, info)
        }
        return (fd, info)
    }

    /// Opens the existing file `name` with `flags` (for cgroup control files), never through a symlink.
    func openExisting(_ name: String, _ flags: Int32) throws(SystemError) -> Int32 {
        try retryingEINTR("open \(path(of: name))") { openat(fd, name, flags | O_NOFOLLOW | O_CLOEXEC) }
    }

    /// The contents of the file `name`, up to `limit` bytes, if it can be trusted: a regular file
    /// owned by this user or root, writable by no one else, not reached through a symlink.
    package func readOwnFile(_ name: String, limit: Int) throws(SystemError) -> [UInt8] {
        let fd = try openFile(name, O_RDONLY)
        defer { closeQuietly(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SystemError(errno: errno, "fstat \(path(of: name))") }
        guard info.st_mode & S_IFMT == S_IFREG, info.st_uid == 0 || info.st_uid == geteuid(), info.st_mode & 0o022 == 0 else {
            throw refusal(name, info)
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < limit {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, min($0.count, limit - bytes.count)) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw SystemError(errno: errno, "read \(path(of: name))") }
            if count == 0 { break }
            bytes += chunk[..<count]
        }
        return bytes
    }

    /// Replaces the file `name` with `bytes` at once: written to a new file (`O_EXCL`, never
    /// through a symlink) in this folder, then renamed over it.
    package func replace(_ name: String, with bytes: [UInt8], mode: mode_t = 0o600) throws(SystemError) {
        let temporary = ".\(name).\(getpid()).tmp"
        _ = unlinkat(fd, temporary, 0) // a leftover of a run that had this pid
        let file = try retryingEINTR("create \(path(of: temporary))") {
            openat(fd, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        }
        var done = 0
        while done < bytes.count {
            let count = bytes[done...].withUnsafeBytes { write(file, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                let failure = count < 0 ? errno : ENOSPC
                closeQuietly(file)
                _ = unlinkat(fd, temporary, 0)
                throw SystemError(errno: failure, "write \(path(of: temporary))")
            }
            done += count
        }
        closeQuietly(file)
        guard renameat(fd, temporary, fd, name) == 0 else {
            let failure = errno
            _ = unlinkat(fd, temporary, 0)
            throw SystemError(errno: failure, "rename \(path(of: temporary)) to \(name)")
        }
    }

    /// Renames `name` to `other` in this folder (a symlink is renamed, never followed).
    @discardableResult
    package func rename(_ name: String, to other: String) -> Bool {
        renameat(fd, name, fd, other) == 0
    }

    /// Removes the file `name` (a symlink is removed, never followed).
    @discardableResult
    package func remove(_ name: String) -> Bool {
        unlinkat(fd, name, 0) == 0
    }

    /// Opens `name` with `flags`, never through a symlink and without blocking on a FIFO; a
    /// failure that something other than a file is there explains is refused as that.
    private func openFile(_ name: String, _ flags: Int32, mode: mode_t = 0) throws(SystemError) -> Int32 {
        while true {
            let opened = openat(fd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, mode)
            if opened >= 0 { return opened }
            let failure = errno
            if failure == EINTR { continue }
            if let info = status(of: name), info.st_mode & S_IFMT != S_IFREG { throw refusal(name, info) }
            throw SystemError(errno: failure, "open \(path(of: name))")
        }
    }

    /// The path's components, without empty ones and `.`.
    private static func components(_ path: String) -> [String] {
        path.split(separator: "/").map(String.init).filter { $0 != "." }
    }

    /// The target of the symlink `name` in the folder `fd`.
    private static func linkTarget(_ fd: Int32, _ name: String, _ path: String) throws(SystemError) -> String {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX))
        let count = buffer.withUnsafeMutableBytes { readlinkat(fd, name, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count) }
        guard count >= 0 else { throw SystemError(errno: errno, "open folder \(path)") }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }

    /// Throws unless the folder `fd` is owned by root or this user and writable by no one else
    /// (a sticky folder is, on the way, or as the last one when `allowingSticky`).
    private static func check(_ fd: Int32, _ name: String, last: Bool, allowingSticky: Bool) throws(SystemError) {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SystemError(errno: errno, "fstat folder \(name)") }
        let owned = info.st_uid == 0 || info.st_uid == geteuid()
        let writable = info.st_mode & 0o022 != 0 && (info.st_mode & S_ISVTX == 0 || (last && !allowingSticky))
        guard owned, !writable else {
            throw SystemError(errno: EPERM, "folder \(name) is owned by \(owner(info.st_uid)) with mode \(octal(info.st_mode & 0o7777)): "
                + "Luminal, running as \(owner(geteuid())), writes only in folders owned by root or by its own user that no one else can write (a sticky folder such as /tmp is allowed on the way); refused")
        }
    }

    /// Why the file `name`, whose status is `info`, is not written or read.
    private func refusal(_ name: String, _ info: stat) -> SystemError {
        let what = switch info.st_mode & S_IFMT {
        case S_IFLNK: "a symlink (never followed)"
        case S_IFIFO: "a FIFO"
        case S_IFSOCK: "a socket"
        case S_IFCHR, S_IFBLK: "a device"
        case S_IFDIR: "a folder"
        case S_IFREG where info.st_nlink != 1: "a file with \(info.st_nlink) hard links"
        case S_IFREG where info.st_uid != geteuid() && info.st_uid != 0: "a file owned by \(Self.owner(info.st_uid))"
        case S_IFREG where info.st_uid != geteuid(): "a file owned by \(Self.owner(info.st_uid)), not by \(Self.owner(geteuid()))"
        default: "a file with mode \(Self.octal(info.st_mode & 0o7777)) that others can write"
        }
        return SystemError(errno: EPERM, "\(path(of: name)) is \(what): refused")
    }

    /// `name (uid N)`, or `uid N` for a user without a name.
    package static func owner(_ uid: uid_t) -> String {
        var entry = passwd()
        var found: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &found) == 0, found != nil, let name = entry.pw_name else { return "uid \(uid)" }
        return "\(String(cString: name)) (uid \(uid))"
    }

    /// `0755`.
    private static func octal(_ mode: mode_t) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
