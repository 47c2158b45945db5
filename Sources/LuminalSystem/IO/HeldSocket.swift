#if canImport(Glibc)
import Glibc
#endif

/// A listening socket the supervisor binds once and hands to every worker of a photon file
/// (systemd's socket activation): a new worker accepts on the same socket while the old one
/// still does, so a reload refuses no connection. It is blocking when bound, never accepted on by
/// the supervisor, and closed when the last holder lets it go. A Unix-domain socket's file stays
/// (as systemd's `RemoveOnStop=no`): removing it would be a change in the package's folder, and
/// the next bind replaces a stale one.
package final class HeldSocket: Sendable {
    /// Where it listens.
    package let address: SocketAddress
    /// The supervisor's descriptor (close-on-exec; the spawn gives each worker its own copy).
    package let fd: Int32
    /// A Unix-domain socket's file as bound: its real path and identity.
    private let file: (path: String, device: UInt, inode: UInt)?

    /// The backlog asked for (the kernel caps it at `net.core.somaxconn`): connections wait there
    /// while a worker is busy or being replaced.
    package static let backlog: Int32 = 4096

    private init(address: SocketAddress, fd: Int32, file: (path: String, device: UInt, inode: UInt)? = nil) {
        self.address = address
        self.fd = fd
        self.file = file
    }

    deinit {
        closeQuietly(fd)
    }

    /// Binds and listens at `address`; a Unix-domain socket's folder must be inside `root` (the
    /// package folder, as it resolves now) and pass `OwnedFolder`'s checks. Its file is made with
    /// mode 0666 whatever the umask.
    package static func bind(_ address: SocketAddress, within root: String) throws(SystemError) -> HeldSocket {
        switch address {
        case .tcp(let host, let port):
            return HeldSocket(address: address, fd: try TCPListener.open(host: host, port: port, backlog: backlog).fd)
        case .unix(let path):
            let folder = try OwnedFolder.open(Paths.parent(path))
            let real = Paths.resolved("/proc/self/fd/\(folder.fd)") ?? ""
            let realRoot = Paths.resolved(root) ?? root
            guard real == realRoot || real.hasPrefix(realRoot + "/") else {
                throw SystemError(errno: EPERM, "listen on \(path): its folder is \(real), outside the package \(realRoot)")
            }
            let name = Paths.name(path)
            // Bound by the folder's real path, which every process can use (getsockname shows it):
            // each folder on it passed the check, so no one else can redirect it.
            let fd = try UnixSocket.bound(in: folder, name: name, at: Paths.join(real, name), mode: 0o666, flags: 0, backlog: backlog,
                                          answered: "something answers there")
            // bind(2) applies the umask; the mode is set again through the folder, which no one else can write.
            guard fchmodat(folder.fd, name, 0o666, 0) == 0, let info = folder.status(of: name) else {
                let failure = SystemError(errno: errno, "chmod 0666 \(path)")
                closeQuietly(fd)
                throw failure
            }
            return HeldSocket(address: address, fd: fd, file: (Paths.join(real, name), UInt(info.st_dev), UInt(info.st_ino)))
        }
    }

    /// Whether a worker started now would find it where its address says: a Unix-domain socket's
    /// file is still the one bound, in the folder its path resolves to now (a package folder
    /// replaced by another, a file removed, leave the socket where no client finds it). A TCP
    /// socket always is.
    package var isInPlace: Bool {
        guard let file, case .unix(let path) = address else { return true }
        var info = stat()
        guard let folder = Paths.resolved(Paths.parent(path)), Paths.join(folder, Paths.name(path)) == file.path,
              lstat(file.path, &info) == 0 else { return false }
        return info.st_mode & S_IFMT == S_IFSOCK && UInt(info.st_dev) == file.device && UInt(info.st_ino) == file.inode
    }

    /// Whether it still listens: a worker that calls `shutdown(2)` on its copy takes the socket
    /// itself out of listening, for every holder.
    package var isListening: Bool {
        var listening: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) == 0 && listening != 0
    }

    /// The connections waiting to be accepted (TCP only: the kernel's accept queue, as `ss -lt`
    /// shows it in Recv-Q); nil for a Unix-domain socket or if it cannot be read.
    package var waitingConnections: Int? {
        guard case .tcp = address else { return nil }
        var info = tcp_info()
        var length = socklen_t(MemoryLayout<tcp_info>.size)
        // On a listening socket the kernel reports the accept queue's length as `tcpi_unacked`.
        guard getsockopt(fd, Int32(IPPROTO_TCP), TCP_INFO, &info, &length) == 0 else { return nil }
        return Int(info.tcpi_unacked)
    }

    /// Listens again with the full backlog: a worker may have shrunk the backlog (`listen(1)`)
    /// or shut the socket down. Connections already waiting stay.
    package func listenAgain() throws(SystemError) {
        if Glibc.listen(fd, Self.backlog) != 0 { throw SystemError(errno: errno, "listen on \(address) again") }
    }
}
