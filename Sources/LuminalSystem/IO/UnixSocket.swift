#if canImport(Glibc)
import Glibc
#endif

/// Unix-domain socket calls for the control socket, held sockets and the service manager's notify socket.
package enum UnixSocket {
    /// Runs `body` with `path` as a socket address; a leading "@" names the abstract namespace.
    package static func withAddress<Result>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) throws(SystemError) -> Result {
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
    package static func make(_ type: Int32) throws(SystemError) -> Int32 {
        try retryingEINTR("socket") { socket(AF_UNIX, type | Int32(SOCK_CLOEXEC.rawValue), 0) }
    }

    /// A stream socket connected to `path`.
    package static func connect(to path: String) throws(SystemError) -> Int32 {
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
    /// Its folder must pass `OwnedFolder` (a sticky folder such as /tmp is allowed): the socket is
    /// made through the folder's descriptor (`/proc/self/fd/N/name`), with its mode set on the
    /// socket before `bind` creates the file, so no path is followed after the folder was checked
    /// and no `chmod` by path is needed. A socket file left at `path` by a supervisor that is gone
    /// is replaced; one that still answers is not (`EADDRINUSE`), nor is anything else there.
    package static func listen(at path: String) throws(SystemError) -> Int32 {
        let folder = try OwnedFolder.open(Paths.parent(path), allowingSticky: true)
        // Clients are checked by their credentials too; the mode keeps other users from connecting at all.
        let name = Paths.name(path)
        return try bound(in: folder, name: name, at: "/proc/self/fd/\(folder.fd)/\(name)", mode: 0o600,
                         flags: Int32(SOCK_NONBLOCK.rawValue), backlog: 64, answered: "another supervisor answers there")
    }

    /// A stream socket listening at `name` in `folder`, bound by `address` (a path to that same
    /// file: through the folder's descriptor, `/proc/self/fd/N/name`, or by a path no one else
    /// can redirect), with `mode` set before `bind` creates the file (less the umask). A socket
    /// file there that nobody answers on is replaced; one that answers is not (`EADDRINUSE`,
    /// saying `answered`), nor is anything else there.
    package static func bound(in folder: OwnedFolder, name: String, at address: String, mode: mode_t, flags: Int32, backlog: Int32,
                              answered: String) throws(SystemError) -> Int32 {
        let path = folder.path(of: name)
        let throughFolder = "/proc/self/fd/\(folder.fd)/\(name)"
        if let info = folder.status(of: name) {
            guard info.st_mode & S_IFMT == S_IFSOCK else {
                throw SystemError(errno: EEXIST, "listen on \(path): a file that is not a socket is in the way")
            }
            if let live = try? connect(to: throughFolder) {
                closeQuietly(live)
                throw SystemError(errno: EADDRINUSE, "listen on \(path): \(answered)")
            }
            folder.remove(name)
        }
        let fd = try make(Int32(SOCK_STREAM.rawValue) | flags)
        do throws(SystemError) {
            if fchmod(fd, mode) != 0 { throw SystemError(errno: errno, "fchmod the socket for \(path)") }
            if try withAddress(address, { Glibc.bind(fd, $0, $1) }) != 0 { throw SystemError(errno: errno, "bind \(path)") }
            if Glibc.listen(fd, backlog) != 0 { throw SystemError(errno: errno, "listen on \(path)") }
            return fd
        } catch {
            closeQuietly(fd)
            throw error
        }
    }
}
