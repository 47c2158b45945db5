#if canImport(Glibc)
import Glibc
#endif

/// Listening TCP sockets: the held sockets of photon files and the metrics endpoint.
package enum TCPListener {
    /// Binds `host` (an IPv4 or IPv6 address, without brackets) and `port` (0 for any free port),
    /// with `SO_REUSEADDR` so that a port whose last connections wait out TIME_WAIT (a supervisor
    /// started again) binds at once, and listens with `backlog`: the descriptor (close-on-exec,
    /// and non-blocking if asked) and the port bound. A host that is not an address is EINVAL.
    package static func open(host: String, port: UInt16, backlog: Int32, nonBlocking: Bool = false) throws(SystemError) -> (fd: Int32, port: UInt16) {
        let six = host.contains(":")
        guard let (storage, size) = socketAddress(host, port, six: six) else {
            throw SystemError(errno: EINVAL, "'\(host)' is not an IPv4 or IPv6 address")
        }
        var address = storage
        let flags = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | (nonBlocking ? Int32(SOCK_NONBLOCK.rawValue) : 0)
        let fd = try retryingEINTR("socket") { socket(six ? AF_INET6 : AF_INET, flags, 0) }
        do throws(SystemError) {
            var on: Int32 = 1
            if setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size)) != 0 {
                throw SystemError(errno: errno, "set SO_REUSEADDR")
            }
            var length = size
            let failed = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, size) != 0 ? "bind" : getsockname(fd, $0, &length) != 0 ? "getsockname" : nil }
            }
            if let failed { throw SystemError(errno: errno, failed) }
            if listen(fd, backlog) != 0 { throw SystemError(errno: errno, "listen") }
            // The port is at the same offset in both address families.
            let actual = withUnsafeBytes(of: &address) { $0.load(fromByteOffset: MemoryLayout<sockaddr_in>.offset(of: \.sin_port)!, as: UInt16.self) }
            return (fd, UInt16(bigEndian: actual))
        } catch {
            closeQuietly(fd)
            throw error
        }
    }

    /// Whether `host` is an IPv4 or IPv6 address (without brackets), as `open` takes it.
    package static func isAddress(_ host: String) -> Bool {
        socketAddress(host, 0, six: host.contains(":")) != nil
    }

    /// `host` and `port` as a `sockaddr_in6` (`six`) or `sockaddr_in`, in storage for either,
    /// with its size; nil if `host` is not an address of that family.
    private static func socketAddress(_ host: String, _ port: UInt16, six: Bool) -> (sockaddr_storage, socklen_t)? {
        var storage = sockaddr_storage()
        func stored<Address>(_ address: Address) -> (sockaddr_storage, socklen_t) {
            withUnsafeBytes(of: address) { source in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: source) } }
            return (storage, socklen_t(MemoryLayout<Address>.size))
        }
        if six {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            return inet_pton(AF_INET6, host, &address.sin6_addr) == 1 ? stored(address) : nil
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        return inet_pton(AF_INET, host, &address.sin_addr) == 1 ? stored(address) : nil
    }
}
