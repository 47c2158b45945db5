#if canImport(Glibc)
import Glibc
#endif

/// One client of the metrics endpoint, as its server's thread drives it: read the request's
/// head, wait for the metrics if it asked for them, write the response, close.
struct HTTPConnection {
    private enum Phase {
        case reading([UInt8])
        case awaitingMetrics(head: Bool)
        case writing([UInt8], written: Int)
        case done
    }

    let fd: Int32
    private var phase: Phase = .reading([])
    /// When the current phase is given up on (Dispatch's uptime clock).
    private(set) var deadline: UInt64

    init(fd: Int32) {
        self.fd = fd
        deadline = Uptime.after(MetricsServer.readTimeout, from: Uptime.now())
    }

    /// What to poll it for.
    var events: Int16 {
        switch phase {
        case .reading: Int16(POLLIN)
        case .writing: Int16(POLLOUT)
        case .awaitingMetrics, .done: 0
        }
    }

    /// Still sending its request.
    var isReading: Bool {
        if case .reading = phase { return true }
        return false
    }

    /// Connected and has sent nothing yet (none read, none waiting to be): the first to go when
    /// the server is full.
    var isIdle: Bool {
        guard case .reading(let bytes) = phase, bytes.isEmpty else { return false }
        var waiting: Int32 = 0
        return ioctl(fd, UInt(FIONREAD), &waiting) == 0 && waiting == 0
    }

    /// Asked for the metrics, which are being read.
    var awaitsMetrics: Bool {
        if case .awaitingMetrics = phase { return true }
        return false
    }

    /// Finished: to be closed.
    var done: Bool {
        if case .done = phase { return true }
        return false
    }

    /// Takes what poll reported.
    mutating func handle(_ events: Int16) {
        switch phase {
        case .reading(var bytes):
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count == 0 || (count < 0 && errno != EAGAIN && errno != EINTR) { return phase = .done }
            guard count > 0 else { return }
            bytes += chunk[..<count]
            switch HTTPRequestHead.read(bytes) {
            case .incomplete: phase = .reading(bytes)
            case .refused(let status, let why): respond(status, with: "\(why)\n")
            case .complete(let head): route(head)
            }
        case .writing:
            write()
        case .awaitingMetrics, .done:
            if events & Int16(POLLHUP | POLLERR) != 0 { phase = .done }
        }
    }

    private mutating func route(_ head: HTTPRequestHead) {
        guard head.path == "/metrics" else { return respond(.notFound, with: "only /metrics is served here\n") }
        guard head.method == "GET" || head.method == "HEAD" else {
            return respond(.methodNotAllowed, with: "/metrics takes GET or HEAD\n", extraHeaders: "Allow: GET, HEAD\r\n")
        }
        phase = .awaitingMetrics(head: head.method == "HEAD")
        deadline = Uptime.after(MetricsServer.writeTimeout, from: Uptime.now())
    }

    /// Starts writing the response `status` with `body`.
    mutating func respond(_ status: HTTPStatus, with body: String, extraHeaders: String = "") {
        var head = false
        if case .awaitingMetrics(let isHead) = phase { head = isHead }
        let contentType = status == .ok ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain; charset=utf-8"
        phase = .writing(status.response(body, contentType: contentType, extraHeaders: extraHeaders, head: head), written: 0)
        deadline = Uptime.after(MetricsServer.writeTimeout, from: Uptime.now())
        write()
    }

    /// Its deadline passed: a client still sending its request is told so (if its socket takes
    /// it at once); any other is closed.
    mutating func expire() {
        if isReading {
            let response = HTTPStatus.requestTimeout.response("the request did not arrive within \(MetricsServer.readTimeout)\n")
            _ = response.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
        }
        phase = .done
    }

    private mutating func write() {
        guard case .writing(let bytes, var written) = phase else { return }
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN { return phase = .writing(bytes, written: written) }
                return phase = .done
            }
            written += count
        }
        // Everything is sent: say so, so that the client sees the end even if it sent more.
        shutdown(fd, Int32(SHUT_WR))
        phase = .done
    }
}
