#if canImport(Glibc)
import Glibc
#endif
import _LuminalCShims
import LuminalSystem

/// One client of the metrics endpoint, as its server's thread drives it: read the request's
/// head, wait for the reading of the endpoint it asked for, write the response, close.
struct HTTPConnection {
    private enum Phase {
        case reading([UInt8])
        case awaiting(Endpoint, head: Bool)
        /// `response` up to `end` (its head only, for `HEAD`), of which `written` bytes are sent.
        case writing(SharedResponse, end: Int, written: Int)
        case done
    }

    /// What the server closes first when it needs room, first to last.
    enum Standing: Comparable {
        /// Its request has been incomplete since this instant (`Uptime`): the connection's.
        case reading(since: UInt64)
        /// Its response has waited to be read since this instant.
        case writing(since: UInt64)
        /// It waits for the reading of its endpoint (since it connected), or is done.
        case answered(since: UInt64)
    }

    let fd: Int32
    private var phase: Phase = .reading([])
    /// When it connected (`Uptime`).
    private let connected: UInt64
    /// When its response was ready to be written.
    private var responded: UInt64 = 0
    /// When the current phase is given up on (Dispatch's uptime clock).
    private(set) var deadline: UInt64

    init(fd: Int32) {
        self.fd = fd
        connected = Uptime.now()
        deadline = Uptime.after(MetricsServer.readTimeout, from: connected)
    }

    /// What to poll it for.
    var events: Int16 {
        switch phase {
        case .reading: Int16(POLLIN)
        case .writing: Int16(POLLOUT)
        // A client that hung up while waiting is let go at once, not left to hold a place.
        case .awaiting: luminal_pollrdhup
        case .done: 0
        }
    }

    /// Where it stands in the order of eviction.
    var standing: Standing {
        switch phase {
        case .reading: .reading(since: connected)
        case .writing: .writing(since: responded)
        case .awaiting, .done: .answered(since: connected)
        }
    }

    /// The response it holds until it is read, if any.
    var heldResponse: SharedResponse? {
        if case .writing(let response, _, _) = phase { return response }
        return nil
    }

    /// The endpoint it asked for, whose reading it waits for.
    var awaited: Endpoint? {
        if case .awaiting(let endpoint, _) = phase { return endpoint }
        return nil
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
            case .refused(let status, let why): respond(SharedResponse(status, "\(why)\n"))
            case .complete(let head): route(head)
            }
        case .writing:
            write()
        case .awaiting, .done:
            if events & (Int16(POLLHUP | POLLERR) | luminal_pollrdhup) != 0 { phase = .done }
        }
    }

    private mutating func route(_ head: HTTPRequestHead) {
        guard let endpoint = Endpoint(rawValue: head.path) else {
            return respond(SharedResponse(.notFound, "only \(Endpoint.allCases.map(\.rawValue).joined(separator: ", ")) are served here\n"))
        }
        guard head.method == "GET" || head.method == "HEAD" else {
            return respond(SharedResponse(.methodNotAllowed, "\(endpoint.rawValue) takes GET or HEAD\n", extraHeaders: "Allow: GET, HEAD\r\n"))
        }
        phase = .awaiting(endpoint, head: head.method == "HEAD")
        deadline = Uptime.after(MetricsServer.writeTimeout, from: Uptime.now())
    }

    /// Starts writing `response` (its head only, if the request was `HEAD`).
    mutating func respond(_ response: SharedResponse) {
        var end = response.count
        if case .awaiting(_, head: true) = phase { end = response.headLength }
        phase = .writing(response, end: end, written: 0)
        responded = Uptime.now()
        deadline = Uptime.after(MetricsServer.writeTimeout, from: responded)
        write()
    }

    /// Its deadline passed: a client still sending its request is told so (if its socket takes
    /// it at once); any other is closed.
    mutating func expire() {
        if case .reading = phase {
            let response = SharedResponse(.requestTimeout, "the request did not arrive within \(MetricsServer.readTimeout)\n")
            _ = sendPieces(fd, response.pieces, from: 0, to: response.count, flags: Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
        }
        phase = .done
    }

    private mutating func write() {
        guard case .writing(let response, let end, let written) = phase else { return }
        let progress = sendPieces(fd, response.pieces, from: written, to: end, flags: Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
        if let failure = progress.failure {
            return phase = failure == EAGAIN ? .writing(response, end: end, written: progress.offset) : .done
        }
        // Everything is sent: say so, so that the client sees the end even if it sent more.
        shutdown(fd, Int32(SHUT_WR))
        phase = .done
    }
}
