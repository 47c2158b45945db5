#if canImport(Glibc)
import Glibc
#endif

/// Where a held listening socket listens (`HeldSocket`): a TCP address or a Unix-domain path.
package enum SocketAddress: Sendable, Hashable, CustomStringConvertible {
    /// A TCP port on an IPv4 or IPv6 address (the literal, without brackets).
    case tcp(host: String, port: UInt16)
    /// A Unix-domain stream socket at an absolute path.
    case unix(path: String)

    /// Why a text is not an address.
    package struct Invalid: Error {
        /// What is wrong, as a clause: "the port must be a number from 1 to 65535".
        package let reason: String
    }

    /// The most bytes a Unix-domain socket's path may hold (`sun_path` less its NUL).
    package static let unixPathLimit = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    /// `tcp:127.0.0.1:8080`, `tcp:[::1]:8080` or `unix:/path`, as a manifest writes it.
    package var description: String {
        switch self {
        case .tcp(let host, let port): host.contains(":") ? "tcp:[\(host)]:\(port)" : "tcp:\(host):\(port)"
        case .unix(let path): "unix:\(path)"
        }
    }

    /// Reads `text` (`tcp:HOST:PORT` with HOST an IP address, IPv6 in brackets, and PORT from 1 to
    /// 65535; `unix:PATH` with PATH relative to `folder` and inside it); the error says what is wrong.
    package static func parse(_ text: String, in folder: String) throws(Invalid) -> SocketAddress {
        if text.hasPrefix("tcp:") { return try parseTCP(String(text.dropFirst(4))) }
        if text.hasPrefix("unix:") { return try parseUnix(String(text.dropFirst(5)), in: folder) }
        throw Invalid(reason: "must start with \"tcp:\" (tcp:127.0.0.1:8080, tcp:[::1]:8080) or \"unix:\" (unix:run/app.sock)")
    }

    private static func parseTCP(_ rest: String) throws(Invalid) -> SocketAddress {
        guard let colon = rest.lastIndex(of: ":") else { throw Invalid(reason: "needs a port: tcp:HOST:PORT") }
        var host = String(rest[..<colon])
        let portText = rest[rest.index(after: colon)...]
        if host.hasPrefix("["), host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
            guard host.contains(":") else { throw Invalid(reason: "brackets are for IPv6 addresses only") }
        } else if host.contains(":") {
            throw Invalid(reason: "an IPv6 address goes in brackets: tcp:[::1]:8080")
        }
        guard let canonical = canonicalAddress(host) else {
            throw Invalid(reason: "the host must be an IP address (127.0.0.1, 0.0.0.0, [::1], [::]): names are not looked up")
        }
        guard portText.allSatisfy(\.isASCII), portText.allSatisfy(\.isNumber), let port = Int(portText), (1...65_535).contains(port) else {
            throw Invalid(reason: "the port must be a number from 1 to 65535")
        }
        return .tcp(host: canonical, port: UInt16(port))
    }

    /// `host` (an IPv4 or IPv6 address) as `inet_ntop` writes it, so that two spellings of one
    /// address (`::1`, `0:0:0:0:0:0:0:1`) are one address; nil if it is not an address.
    private static func canonicalAddress(_ host: String) -> String? {
        let family = host.contains(":") ? AF_INET6 : AF_INET
        var address = in6_addr()
        guard host.withCString({ inet_pton(family, $0, &address) }) == 1 else { return nil }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(family, &address, &text, socklen_t(text.count)) != nil else { return nil }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func parseUnix(_ rest: String, in folder: String) throws(Invalid) -> SocketAddress {
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false)
        guard !rest.isEmpty, !rest.hasPrefix("/"), !rest.hasPrefix("@") else {
            throw Invalid(reason: "the path must be relative to the package folder (unix:run/app.sock)")
        }
        guard !rest.utf8.contains(0), parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else {
            throw Invalid(reason: "the path must stay inside the package folder: no empty, '.' or '..' component, no NUL")
        }
        let path = Paths.join(folder, rest)
        guard path.utf8.count <= unixPathLimit else {
            throw Invalid(reason: "the path \(path) is longer than \(unixPathLimit) bytes, the most a Unix-domain socket's path may hold")
        }
        return .unix(path: path)
    }
}
