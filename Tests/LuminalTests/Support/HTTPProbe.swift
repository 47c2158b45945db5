#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalDaemon
@testable import LuminalSystem

/// A raw TCP client for the metrics endpoint: sends exactly the bytes given and reads until the
/// server closes, under the test deadline.
final class HTTPProbe: @unchecked Sendable {
    // @unchecked: a test uses a probe from one thread at a time (`offThePool` hands it over).
    let fd: Int32

    /// Connects to 127.0.0.1:`port`.
    init(port: UInt16) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ProbeError("socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let failure = errno
            close(fd)
            throw ProbeError("connect to port \(port): errno \(failure)")
        }
    }

    private var owned = true

    deinit { if owned { close(fd) } }

    /// Hands the socket over to the caller, who closes it.
    func release() -> Int32 {
        owned = false
        return fd
    }

    /// Asks for a receive buffer of `bytes`: a small one, so that a client that does not read
    /// stalls soon; a large one, so that it then reads fast.
    func setReceiveBuffer(to bytes: Int32) {
        var size = bytes
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Waits, up to the test deadline, until the server has sent something, and reads none of it.
    func awaitFirstByte() throws {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(testDeadline.components.seconds * 1000)) > 0 else {
            throw ProbeError("nothing from the server within \(testDeadline)")
        }
    }

    /// Whether the server still holds its end of this connection open (ESTABLISHED in
    /// /proc/net/tcp), as opposed to having closed it, even if data it sent before waits unread.
    func serverHoldsItOpen(serverPort: UInt16) throws -> Bool {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let local = UInt16(bigEndian: address.sin_port)
        let table = String(decoding: try Paths.read("/proc/net/tcp", limit: 16 << 20), as: UTF8.self)
        // Columns: sl, local address, remote address, state (01 is ESTABLISHED).
        return table.split(separator: "\n").dropFirst().contains { line in
            let fields = line.split(separator: " ")
            guard fields.count > 3 else { return false }
            return fields[1].hasSuffix(":" + Self.hex(serverPort)) && fields[2].hasSuffix(":" + Self.hex(local)) && fields[3] == "01"
        }
    }

    private static func hex(_ port: UInt16) -> String {
        let digits = String(port, radix: 16, uppercase: true)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }

    /// Sends `text`.
    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { throw ProbeError("send: errno \(errno)") }
            written += count
        }
    }

    /// Everything the server sends until it closes the connection.
    func readToEnd() throws -> HTTPResponse {
        let deadline = ContinuousClock.now + testDeadline
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard ContinuousClock.now < deadline else { throw ProbeError("no end of the response within \(testDeadline); got \(bytes.count) bytes") }
            guard poll(&poller, 1, 100) > 0 else { continue }
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == ECONNRESET { break }
            guard count >= 0 else { throw ProbeError("recv: errno \(errno)") }
            if count == 0 { break }
            bytes += chunk[..<count]
        }
        return HTTPResponse(String(decoding: bytes, as: UTF8.self))
    }

    /// `connectionLimit` scrapers that ask for the metrics and never read (small receive buffers).
    static func stalledScrapers(port: UInt16) throws -> [HTTPProbe] {
        try (0..<MetricsServer.connectionLimit).map { _ in
            let probe = try HTTPProbe(port: port)
            probe.setReceiveBuffer(to: 4096)
            try probe.send("GET /metrics HTTP/1.1\r\n\r\n")
            return probe
        }
    }

    /// Sends `request` on a new connection to `port` and reads the whole response.
    static func exchange(_ port: UInt16, _ request: String) throws -> HTTPResponse {
        let probe = try HTTPProbe(port: port)
        try probe.send(request)
        return try probe.readToEnd()
    }
}

/// A response as read off the wire.
struct HTTPResponse {
    let status: Int
    let headers: [String]
    let body: String

    init(_ text: String) {
        let parts = text.split(separator: "\r\n\r\n", maxSplits: 1, omittingEmptySubsequences: false)
        let head = parts.first.map { $0.split(separator: "\r\n").map(String.init) } ?? []
        status = head.first.flatMap { $0.split(separator: " ").dropFirst().first }.flatMap { Int($0) } ?? 0
        headers = Array(head.dropFirst())
        body = parts.count > 1 ? String(parts[1]) : ""
    }

    /// The value of header `name` (case-insensitive).
    func header(_ name: String) -> String? {
        headers.first { $0.lowercased().hasPrefix(name.lowercased() + ":") }.map { String($0.dropFirst(name.count + 1)).trimmingSpaces }
    }
}

struct ProbeError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

private extension String {
    var trimmingSpaces: String { String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }
}
