#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire

/// A control connection driven frame by frame, for what the `luminal` command never does:
/// pipelining, not reading, holding connections open.
final class RawControlConnection {
    let fd: Int32
    private var decoder = FrameDecoder(cap: 64 << 20, maxDepth: JSONValue.controlMaxDepth)

    /// Connects to the control socket at `path`.
    init(_ path: String) throws {
        fd = try UnixSocket.connect(to: path)
    }

    deinit { close(fd) }

    /// Asks for a receive buffer of `bytes`, so that a client that stops reading stalls soon.
    func shrinkReceiveBuffer(to bytes: Int32) {
        var size = bytes
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Writes `bytes`, all of them unless the supervisor stops reading (the socket is made
    /// non-blocking for that): how many were written.
    @discardableResult
    func write(_ bytes: [UInt8]) -> Int {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        defer { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            offset += n
        }
        return offset
    }

    /// Sends `request` as one frame.
    func send(_ request: ControlRequest) {
        write(Frame.encode(request.json))
    }

    /// The next frame's object, waiting up to the test deadline; nil once the supervisor hung up.
    func receive() throws -> [String: JSONValue]? {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            if let object = try decoder.nextObject() { return object }
            guard let n = try readSome(into: &chunk) else { return nil }
            chunk.withUnsafeBytes { decoder.append(UnsafeRawBufferPointer(rebasing: $0.prefix(n))) }
        }
    }

    /// Reads and drops everything until the supervisor hangs up, up to the test deadline.
    func readToEnd() throws {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while try readSome(into: &chunk) != nil {}
    }

    /// One read once the socket is readable (waiting up to the test deadline); nil at end of stream.
    private func readSome(into chunk: inout [UInt8]) throws -> Int? {
        let deadline = ContinuousClock.now + testDeadline
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { throw DeadlineExceeded(what: "reply on the control socket") }
            var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)
            guard poll(&ready, 1, max(1, milliseconds)) > 0 else { continue }
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 { return n }
            if n == 0 || (errno != EINTR && errno != EAGAIN) { return nil }
        }
    }
}
