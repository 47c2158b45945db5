#if canImport(Glibc)
import Glibc
#endif

/// Unix-domain socket calls for the control socket and the service manager's notify socket.
enum UnixSocket {
    /// Runs `body` with `path` as a socket address; a leading "@" names the abstract namespace.
    static func withAddress<Result>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) throws(SystemError) -> Result {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 } else { bytes.append(0) }
        guard !bytes.isEmpty, bytes.count <= MemoryLayout.size(ofValue: address.sun_path) else {
            throw SystemError(errno: ENAMETOOLONG, "socket path \(path) (longer than \(MemoryLayout.size(ofValue: address.sun_path) - 1) bytes)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }

    /// A new socket of `type`, close-on-exec.
    static func make(_ type: Int32) throws(SystemError) -> Int32 {
        try retryingEINTR("socket") { socket(AF_UNIX, type | Int32(SOCK_CLOEXEC.rawValue), 0) }
    }

    /// A stream socket connected to `path`.
    static func connect(to path: String) throws(SystemError) -> Int32 {
        let fd = try make(Int32(SOCK_STREAM.rawValue))
        do throws(SystemError) {
            let result = try withAddress(path) { address, length in Glibc.connect(fd, address, length) }
            if result != 0 { throw SystemError(errno: errno, "connect \(path)") }
            return fd
        } catch {
            closeQuietly(fd)
            throw error
        }
    }

    /// A non-blocking stream socket listening at `path`, readable and writable by its owner only.
    ///
    /// A socket file left at `path` by a supervisor that is gone is replaced; one that still
    /// answers is not (`EADDRINUSE`).
    static func listen(at path: String) throws(SystemError) -> Int32 {
        if Paths.kind(path) != .missing {
            if let live = try? connect(to: path) {
                closeQuietly(live)
                throw SystemError(errno: EADDRINUSE, "listen on \(path): another supervisor answers there")
            }
            var info = stat()
            guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK else {
                throw SystemError(errno: EEXIST, "listen on \(path): a file that is not a socket is in the way")
            }
            unlink(path)
        }
        let fd = try make(Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue))
        do throws(SystemError) {
            // Clients are checked by their credentials too; the mode keeps other users from connecting at all.
            if try withAddress(path, { Glibc.bind(fd, $0, $1) }) != 0 { throw SystemError(errno: errno, "bind \(path)") }
            if chmod(path, 0o600) != 0 { throw SystemError(errno: errno, "chmod 0600 \(path)") }
            if Glibc.listen(fd, 64) != 0 { throw SystemError(errno: errno, "listen on \(path)") }
            return fd
        } catch {
            closeQuietly(fd)
            throw error
        }
    }
}
