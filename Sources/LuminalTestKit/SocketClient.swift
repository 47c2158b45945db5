#if canImport(Glibc)
import Glibc
#endif
import LuminalSystem

/// A blocking client for services behind held sockets (the tests', the benchmark's): one request
/// per connection, the whole answer read until the server closes, every read bounded by `timeout`.
package enum SocketClient {
    /// Where to connect.
    package enum Target: Sendable {
        case tcp(port: UInt16)
        case unix(path: String)
    }

    /// A connection that failed, and the errno (`ECONNREFUSED`, `ECONNRESET`…).
    package struct Failure: Error, CustomStringConvertible {
        package let errno: Int32
        package let step: String
        package var description: String { "\(step): \(String(cString: strerror(errno))) (errno \(errno))" }
    }

    /// A port on 127.0.0.1 that was free a moment ago.
    package static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw Failure(errno: errno, step: "bind port 0") }
        return UInt16(bigEndian: address.sin_port)
    }

    /// A connected socket (the caller closes it).
    package static func connect(_ target: Target, timeout: Duration = .seconds(30)) throws -> Int32 {
        let fd: Int32
        let result: Int32
        switch target {
        case .tcp(let port):
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .unix(let path):
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            result = (try? UnixSocket.withAddress(path) { Glibc.connect(fd, $0, $1) }) ?? -1
        }
        guard result == 0 else {
            let failure = Failure(errno: errno, step: "connect")
            close(fd)
            throw failure
        }
        var limit = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    /// Sends `request` on `fd` (nothing for an empty one: a server that answers and closes at
    /// once would fail even an empty send with EPIPE) and reads the answer until the server
    /// closes; closes `fd`.
    package static func exchange(_ fd: Int32, _ request: String) throws -> String {
        defer { close(fd) }
        let bytes = Array(request.utf8)
        guard bytes.isEmpty || bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
            throw Failure(errno: errno, step: "send")
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return String(decoding: answer, as: UTF8.self) }
            guard count > 0 else { throw Failure(errno: errno, step: "receive") }
            answer += buffer[..<count]
        }
    }

    /// One HTTP/1.0 GET of `/`: the answer's body.
    package static func get(_ target: Target, timeout: Duration = .seconds(30)) throws -> String {
        let answer = try exchange(try connect(target, timeout: timeout), "GET / HTTP/1.0\r\nHost: test\r\n\r\n")
        guard answer.hasPrefix("HTTP/1.0 200"), let body = answer.split(separator: "\r\n\r\n", maxSplits: 1).last else {
            throw Failure(errno: EPROTO, step: "answer \(answer.debugDescription)")
        }
        return String(body)
    }
}
