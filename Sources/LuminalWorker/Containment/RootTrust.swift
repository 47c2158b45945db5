#if canImport(Glibc)
import Glibc
#endif
import LuminalSystem

/// Whether only root could have changed what a worker that runs as root executes (README,
/// "Identity"; ARCHITECTURE.md §4.1), as sshd's StrictModes checks a user's files.
///
/// Checked: the photon file (the executable, or the package folder and its manifest), the
/// program it runs (`exec`), and each interpreter a `#!` line names (the kernel runs it, up to
/// four levels). For each, every folder from `/` down, and every folder a symlink on the way
/// leads through, must belong to root (or to the supervisor's own user) and be writable by
/// neither its group nor everyone, unless it is sticky (`/tmp`) and the entry in it belongs to
/// root; the file itself must belong to root and be writable by neither. What the program opens
/// or runs once started (an interpreter found on `PATH` by `/usr/bin/env`, a script it reads)
/// is its own affair; files a package `watch`es are only read.
enum RootTrust {
    /// The most symlinks followed for one path, as the kernel's ELOOP bound.
    static let symlinkLimit = 40
    /// The most `#!` interpreters followed, as the kernel's `BINPRM_MAX_RECURSION`.
    static let interpreterLimit = 4

    /// Why some user other than root or `supervisor` could change what `file`'s worker runs:
    /// the path, its owner and mode, and what it is on the way to; nil if nobody could.
    static func untrustedPath(of file: PhotonFile, supervisor: uid_t = geteuid()) -> String? {
        let trusted: Set<uid_t> = [0, supervisor]
        var targets = [file.path]
        if file.executable != file.path { targets += [Paths.join(file.path, Manifest.fileName), file.executable] }
        var program = file.executable
        for _ in 0..<interpreterLimit {
            guard let interpreter = interpreter(of: program, in: file.workingDirectory) else { break }
            targets.append(interpreter)
            program = interpreter
        }
        for target in targets {
            if let why = untrustedStep(to: target, trusted: trusted) { return why }
        }
        return nil
    }

    /// The interpreter the kernel runs for `program` when it starts with `#!`, as an absolute
    /// path (a relative one is relative to the worker's folder `folder`); nil for a binary.
    static func interpreter(of program: String, in folder: String) -> String? {
        let fd = open(program, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: 256)
        let n = head.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 2, head[0] == UInt8(ascii: "#"), head[1] == UInt8(ascii: "!") else { return nil }
        let line = head[2..<n].prefix { $0 != UInt8(ascii: "\n") }
        let name = line.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
            .prefix { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") && $0 != 0 }
        guard !name.isEmpty else { return nil }
        return Paths.absolute(String(decoding: name, as: UTF8.self), relativeTo: folder)
    }

    /// Walks `path` from `/` as the kernel resolves it, symlinks included, and describes the
    /// first folder or file on the way that a user outside `trusted` could change.
    static func untrustedStep(to path: String, trusted: Set<uid_t>) -> String? {
        var pending = Array(components(of: path).reversed())
        var folder = "/"
        var links = 0
        guard var folderInfo = status(folder) else { return "/ cannot be examined (\(String(cString: strerror(errno))))" }
        if let why = foreignOwner(folder, folderInfo, trusted: trusted, on: path) { return why }
        while let name = pending.popLast() {
            if name == "." { continue }
            if name == ".." {
                folder = Paths.parent(folder)
                guard let info = status(folder) else { return "\(folder) cannot be examined (\(String(cString: strerror(errno))))" }
                folderInfo = info
                continue
            }
            let next = Paths.join(folder, String(name))
            let found = status(next), failure = errno
            if folderInfo.st_mode & (S_IWGRP | S_IWOTH) != 0 {
                // Others may add and remove entries here: only a sticky folder keeps them from
                // replacing an entry that is not theirs, and nothing keeps them from adding one.
                guard folderInfo.st_mode & S_ISVTX != 0, let info = found else { return writable(folder, folderInfo, on: path) }
                guard trusted.contains(info.st_uid) else {
                    return "\(next) \(described(info)) is in \(folder), which everyone may write to (mode \(mode(folderInfo))), and belongs to a user other than root who could replace it; it is on the path of \(path)"
                }
            }
            guard let info = found else {
                // Nothing runs from a path that does not exist, and only root could create it.
                return failure == ENOENT || failure == ENOTDIR ? nil : "\(next) cannot be examined (\(String(cString: strerror(failure))))"
            }
            if info.st_mode & S_IFMT == S_IFLNK {
                links += 1
                guard links <= symlinkLimit, let target = linkTarget(next) else { return "\(next) cannot be followed (a symlink loop, or unreadable)" }
                if target.hasPrefix("/") { folder = "/" }
                pending += components(of: target).reversed()
                guard let info = status(folder) else { return "\(folder) cannot be examined (\(String(cString: strerror(errno))))" }
                folderInfo = info
                continue
            }
            if let why = foreignOwner(next, info, trusted: trusted, on: path) { return why }
            if pending.isEmpty, info.st_mode & (S_IWGRP | S_IWOTH) != 0 {
                return writable(next, info, on: path)
            }
            folder = next
            folderInfo = info
        }
        return nil
    }

    private static func foreignOwner(_ path: String, _ info: stat, trusted: Set<uid_t>, on target: String) -> String? {
        guard !trusted.contains(info.st_uid) else { return nil }
        return "\(path) \(described(info)) belongs to a user other than root\(path == target ? "" : ", and is on the path of \(target)")"
    }

    private static func writable(_ path: String, _ info: stat, on target: String) -> String {
        "\(path) \(described(info)) is writable by its group or by everyone\(path == target ? "" : ", and is on the path of \(target)")"
    }

    /// "(owner uid 65534, mode 0755)".
    private static func described(_ info: stat) -> String {
        "(owner uid \(info.st_uid), mode \(mode(info)))"
    }

    private static func mode(_ info: stat) -> String {
        let octal = String(info.st_mode & 0o7777, radix: 8)
        return String(repeating: "0", count: max(0, 4 - octal.count)) + octal
    }

    private static func components(of path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }

    private static func status(_ path: String) -> stat? {
        var info = stat()
        return lstat(path, &info) == 0 ? info : nil
    }

    private static func linkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
