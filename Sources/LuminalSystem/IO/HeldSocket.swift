#if canImport(Glibc)
import Glibc
#endif

/// A listening socket the supervisor binds once and hands to every worker of a photon file
/// (systemd's socket activation): a new worker accepts on the same socket while the old one
/// still does, so a reload refuses no connection. It is blocking, as systemd passes them, never
/// accepted on by the supervisor, and closed when the last holder lets it go; a Unix-domain
/// socket's file is then removed if it is still the one bound.
package final class HeldSocket: Sendable {
    /// Where it listens.
    package let address: SocketAddress
    /// The supervisor's descriptor (close-on-exec; the spawn gives each worker its own copy).
    package let fd: Int32
    /// A Unix-domain socket's file: its folder, name and identity.
    private let file: (folder: OwnedFolder, name: String, device: UInt, inode: UInt)?

    /// The backlog asked for (the kernel caps it at `net.core.somaxconn`): connections wait there
    /// while a worker is busy or being replaced.
    package static let backlog: Int32 = 4096

    private init(address: SocketAddress, fd: Int32, file: (folder: OwnedFolder, name: String, device: UInt, inode: UInt)?) {
        self.address = address
        self.fd = fd
        self.file = file
    }

    deinit {
        closeQuietly(fd)
        if let file, let info = file.folder.status(of: file.name), info.st_mode & S_IFMT == S_IFSOCK,
           UInt(info.st_dev) == file.device, UInt(info.st_ino) == file.inode {
            file.folder.remove(file.name)
        }
    }

    /// Binds and listens at `address`; a Unix-domain socket's folder must be inside `root` (the
    /// package folder, as it resolves now) and pass `OwnedFolder`'s checks.
    package static func bind(_ address: SocketAddress, within root: String) throws(SystemError) -> HeldSocket {
        switch address {
        case .tcp(let host, let port):
            return HeldSocket(address: address, fd: try bindTCP(host: host, port: port), file: nil)
        case .unix(let path):
            let folder = try OwnedFolder.open(Paths.parent(path))
            let real = Paths.resolved("/proc/self/fd/\(folder.fd)") ?? ""
            let realRoot = Paths.resolved(root) ?? root
            guard real == realRoot || real.hasPrefix(realRoot + "/") else {
                throw SystemError(errno: EPERM, "listen on \(path): its folder is \(real), outside the package \(realRoot)")
            }
            let name = Paths.name(path)
            let fd = try UnixSocket.bound(in: folder, name: name, mode: 0o666, flags: 0, backlog: backlog,
                                          answered: "something answers there")
            guard let info = folder.status(of: name) else {
                closeQuietly(fd)
                throw SystemError(errno: ENOENT, "listen on \(path): the socket's file went as it was made")
            }
            return HeldSocket(address: address, fd: fd, file: (folder, name, UInt(info.st_dev), UInt(info.st_ino)))
        }
    }

    private static func bindTCP(host: String, port: UInt16) throws(SystemError) -> Int32 {
        let six = host.contains(":")
        let fd = try retryingEINTR("socket") { socket(six ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        do throws(SystemError) {
            var on: Int32 = 1
            // A port whose last connections wait out TIME_WAIT (a supervisor started again) binds at once.
            if setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size)) != 0 {
                throw SystemError(errno: errno, "set SO_REUSEADDR")
            }
            let result: Int32
            if six {
                var address = sockaddr_in6()
                address.sin6_family = sa_family_t(AF_INET6)
                address.sin6_port = port.bigEndian
                _ = host.withCString { inet_pton(AF_INET6, $0, &address.sin6_addr) }
                result = bind(fd, to: address)
            } else {
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = port.bigEndian
                _ = host.withCString { inet_pton(AF_INET, $0, &address.sin_addr) }
                result = bind(fd, to: address)
            }
            if result != 0 { throw SystemError(errno: errno, "bind") }
            if Glibc.listen(fd, backlog) != 0 { throw SystemError(errno: errno, "listen") }
            return fd
        } catch {
            closeQuietly(fd)
            throw error
        }
    }

    /// `bind(2)` of `fd` to `address`, a `sockaddr_in` or `sockaddr_in6`.
    private static func bind<Address>(_ fd: Int32, to address: Address) -> Int32 {
        withUnsafePointer(to: address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<Address>.size)) }
        }
    }
}
