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
        var address = sockaddr_storage()
        let parsed = withUnsafeMutableBytes(of: &address) { bytes -> Int32 in
            if six {
                let address = bytes.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self)
                address.pointee.sin6_family = sa_family_t(AF_INET6)
                address.pointee.sin6_port = port.bigEndian
                return inet_pton(AF_INET6, host, &address.pointee.sin6_addr)
            }
            let address = bytes.baseAddress!.assumingMemoryBound(to: sockaddr_in.self)
            address.pointee.sin_family = sa_family_t(AF_INET)
            address.pointee.sin_port = port.bigEndian
            return inet_pton(AF_INET, host, &address.pointee.sin_addr)
        }
        guard parsed == 1 else { throw SystemError(errno: EINVAL, "'\(host)' is not an IPv4 or IPv6 address") }
        let flags = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | (nonBlocking ? Int32(SOCK_NONBLOCK.rawValue) : 0)
        let fd = try retryingEINTR("socket") { socket(six ? AF_INET6 : AF_INET, flags, 0) }
        do throws(SystemError) {
            var on: Int32 = 1
            if setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size)) != 0 {
                throw SystemError(errno: errno, "set SO_REUSEADDR")
            }
            let size = socklen_t(six ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
            var length = size
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, size) == 0 && getsockname(fd, $0, &length) == 0 }
            }
            if !bound { throw SystemError(errno: errno, "bind") }
            if listen(fd, backlog) != 0 { throw SystemError(errno: errno, "listen") }
            // The port is at the same offset in both address families.
            let actual = withUnsafeBytes(of: &address) { $0.load(fromByteOffset: MemoryLayout<sockaddr_in>.offset(of: \.sin_port)!, as: UInt16.self) }
            return (fd, UInt16(bigEndian: actual))
        } catch {
            closeQuietly(fd)
            throw error
        }
    }
}
