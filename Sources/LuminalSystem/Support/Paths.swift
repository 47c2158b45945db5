#if canImport(Glibc)
import Glibc
#endif

/// Lexical path helpers (no Foundation).
package enum Paths {
    /// `path` made absolute against the working directory, with `.`, `..` and repeated slashes removed.
    package static func absolute(_ path: String) -> String {
        var full = path
        if !path.hasPrefix("/") {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
            let cwd = getcwd(&buffer, buffer.count).map { String(cString: $0) } ?? "/"
            full = cwd + "/" + path
        }
        var parts: [Substring] = []
        for part in full.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": _ = parts.popLast()
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// `path` if absolute, else `path` inside `base`; normalized.
    package static func absolute(_ path: String, relativeTo base: String) -> String {
        absolute(path.hasPrefix("/") ? path : join(base, path))
    }

    /// `a/b` joined with `c`.
    package static func join(_ base: String, _ name: String) -> String {
        base.hasSuffix("/") ? base + name : base + "/" + name
    }

    /// The folder holding `path`.
    package static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The nearest folder that exists above `path` (an absolute path); nil if none does.
    package static func nearestFolder(above path: String) -> String? {
        var folder = parent(path)
        while kind(folder) != .directory {
            guard folder != "/" else { return nil }
            folder = parent(folder)
        }
        return folder
    }

    /// The last component of `path`.
    package static func name(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    /// `realpath(3)`: the path with every symlink resolved; nil if it does not exist.
    package static func resolved(_ path: String) -> String? {
        guard let pointer = realpath(path, nil) else { return nil }
        defer { free(pointer) }
        return String(cString: pointer)
    }

    /// What is at `path`, following symlinks.
    package static func kind(_ path: String) -> FileKind {
        var info = stat()
        guard stat(path, &info) == 0 else { return .missing }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFREG: return .regular
        default: return .other
        }
    }

    /// True when this user may execute `path`.
    package static func isExecutable(_ path: String) -> Bool {
        access(path, X_OK) == 0
    }

    /// The names in a folder, sorted, without `.` and `..` and without the names that are not
    /// valid UTF-8; nil if it cannot be read.
    package static func entries(of directory: String) -> [String]? {
        listing(of: directory)?.names
    }

    /// The names in a folder, sorted, without `.` and `..`: those that are valid UTF-8, and the
    /// others escaped (each byte outside printable ASCII as `\xHH`), which name no path.
    package static func listing(of directory: String) -> (names: [String], undecodable: [String])? {
        guard let dir = opendir(directory) else { return nil }
        defer { closedir(dir) }
        var names: [String] = [], undecodable: [String] = []
        while let entry = readdir(dir) {
            let bytes = entryName(entry)
            if let name = String(validating: bytes, as: UTF8.self) {
                if name != "." && name != ".." { names.append(name) }
            } else {
                undecodable.append(bytes.map { (0x20..<0x7F).contains($0) && $0 != UInt8(ascii: "\\") ? String(UnicodeScalar($0)) : "\\x" + hex($0) }.joined())
            }
        }
        return (names.sorted(), undecodable.sorted())
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }

    /// The bytes of a directory entry's name, read in place up to its NUL. The record is only as
    /// long as the name: copying the whole 256-byte `d_name` field would read past the end of the
    /// last entry in the C library's buffer.
    private static func entryName(_ entry: UnsafeMutablePointer<dirent>) -> [UInt8] {
        let offset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        let start = UnsafeRawPointer(entry).advanced(by: offset).assumingMemoryBound(to: UInt8.self)
        return Array(UnsafeBufferPointer(start: start, count: strlen(UnsafeRawPointer(start).assumingMemoryBound(to: CChar.self))))
    }

    /// The contents of a regular file, up to `limit` bytes. It is opened without blocking (a
    /// FIFO cannot hold up open(2)), and anything fstat(2) says is not a regular file is refused.
    package static func read(_ path: String, limit: Int = .max) throws(SystemError) -> [UInt8] {
        let fd = try retryingEINTR("open \(path)") { open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SystemError(errno: errno, "fstat \(path)") }
        guard info.st_mode & S_IFMT == S_IFREG else { throw SystemError(errno: EINVAL, "read \(path): not a regular file") }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while bytes.count < limit {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError(errno: errno, "read \(path)")
            }
            if n == 0 { break }
            bytes += chunk[0..<n]
        }
        return bytes
    }
}

/// What a path names.
package enum FileKind {
    case missing, directory, regular, other
}
