#if canImport(Glibc)
import Glibc
#endif
import Luminal
import _LuminalCShims
import LuminalSystem
import Synchronization

/// Serves `GET /metrics` (the loader's `metrics()`) over HTTP/1.1 for Prometheus, and the health
/// endpoints `/livez` (the loader answers) and `/readyz` (every photon is started: `Readiness`)
/// for an orchestrator's probes.
///
/// Small and written for abuse: one thread of its own polls the listener and every connection,
/// so nothing a client does reaches the loader, the workers or the control socket. One request
/// per connection (`Connection: close`). A request's head is at most 8 KiB and 64 header lines
/// (431), and must arrive within `readTimeout` of the connection (408); the response must be taken
/// within `writeTimeout`, or the connection is closed. At most `connectionLimit` connections are
/// open: a new one is always admitted, and room is made by closing the one whose request has been
/// incomplete the longest (its socket read once more first, so a request that has just arrived
/// counts), else the one whose response has waited unread the longest, else the one that has
/// waited longest for the reading, so a client that reconnects as soon as it is closed is the
/// newest and the last to go; clients that hung up while waiting for the reading go before any
/// (`POLLRDHUP`). Requests that arrive
/// while their endpoint is being read share that reading, and one copy of its response
/// (`SharedResponse`); responses waiting to be read hold at most `unreadResponseLimit` bytes
/// (beyond it, the connections holding older ones are closed).
/// Only those three paths exist (404), only `GET` and `HEAD` are allowed (405), anything not
/// HTTP/1.x is a 400. While the host says it is not ready (`setNotReady`: `luminal run` does from
/// SIGTERM on), `/readyz` is answered 503 on the server's thread at once, without the loader.
public final class MetricsServer: Sendable {
    /// Connections open at once.
    public static let connectionLimit = 64
    /// How long a client has to send its request's head (a scraper sends it at once).
    public static let readTimeout: Duration = .seconds(2)
    /// How long a client has to take the response.
    public static let writeTimeout: Duration = .seconds(10)
    /// The most bytes that responses waiting to be read may hold together (a response shared by
    /// several connections counts once); past it, the connections holding the older ones are
    /// closed. The newest response is always kept, however large.
    public static let unreadResponseLimit = 64 * 1024 * 1024
    /// The kernel's send buffer asked for each connection (Linux doubles it): what a client that
    /// does not read holds in the kernel, beside its share of `unreadResponseLimit`.
    static let sendBufferBytes: Int32 = 64 * 1024

    /// The address it listens on, e.g. `127.0.0.1`.
    public let host: String
    /// The port it listens on (the one the system chose, when asked for port 0).
    public let port: UInt16

    /// The most bytes responses waiting to be read may hold (`unreadResponseLimit` unless the host chose).
    public let unreadLimit: Int
    private let listener: Int32
    /// A pipe: the thread polls `wake.read`; a write to `wake.write` wakes it.
    private let wake: (read: Int32, write: Int32)
    private let shared = Mutex<Shared>(Shared())

    private struct Shared {
        var closing = false
        /// The wake descriptor is closed: nothing may write to it any more.
        var closed = false
        /// The endpoints being read.
        var reading: Set<Endpoint> = []
        /// Readings done, waiting to be handed to their connections.
        var delivered: [Endpoint: SharedResponse] = [:]
        /// Why `/readyz` answers 503 whatever the photons, if it does.
        var notReady: String?
    }

    /// Listens on `host` (an address such as `127.0.0.1`, `0.0.0.0` for every interface, or IPv6 `::1`)
    /// and `port`, and serves `loader`'s metrics until `close()`; responses waiting to be read hold
    /// at most `unreadResponseLimit` bytes (beyond it the older ones' connections are closed).
    /// `notReady`: a reason `/readyz` answers 503 with from the first connection on, until
    /// `clearNotReady(_:)` clears it.
    public init(loader: Loader, host: String, port: UInt16, unreadResponseLimit: Int = MetricsServer.unreadResponseLimit,
                notReady: String? = nil) throws(SystemError) {
        let bound: (fd: Int32, port: UInt16)
        do throws(SystemError) {
            bound = try TCPListener.open(host: host, port: port, backlog: 128, nonBlocking: true)
        } catch {
            throw SystemError(errno: error.errno, "listen for metrics on \(host.contains(":") ? "[\(host)]" : host):\(port): \(error.operation)")
        }
        let fd = bound.fd
        var pipe: [Int32] = [-1, -1]
        guard luminal_pipe2(&pipe, O_CLOEXEC | O_NONBLOCK) == 0 else {
            let failure = errno
            Glibc.close(fd)
            throw SystemError(errno: failure, "pipe for metrics")
        }
        self.host = host
        self.port = bound.port
        unreadLimit = unreadResponseLimit
        listener = fd
        wake = (pipe[0], pipe[1])
        shared.withLock { $0.notReady = notReady }
        startThread { [self] in serve(loader) }
    }

    /// Has `/readyz` answer 503 with `reason` from now on, at once and without the loader (a
    /// reading under way is answered so too), or as the photons are again when `reason` is nil.
    public func setNotReady(_ reason: String?) {
        shared.withLock { shared in
            shared.notReady = reason
            // Probes waiting for a reading under way are answered now, not when it ends.
            if reason != nil, !shared.closed { signalWake() }
        }
    }

    /// Has `/readyz` answer as the photons are again, if it still answers 503 with `reason` (one
    /// set since, such as a stop's, stays).
    public func clearNotReady(_ reason: String) {
        shared.withLock { shared in
            if shared.notReady == reason { shared.notReady = nil }
        }
    }

    /// Stops listening and closes every connection (on the server's thread, at once).
    public func close() {
        shared.withLock { shared in
            shared.closing = true
            if !shared.closed { signalWake() }
        }
    }

    private func signalWake() {
        var one: UInt8 = 1
        _ = write(wake.write, &one, 1)
    }

    /// The server's thread: polls until closed.
    private func serve(_ loader: Loader) {
        var connections: [HTTPConnection] = []
        while true {
            var fds = [pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0), pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            fds += connections.map { pollfd(fd: $0.fd, events: $0.events, revents: 0) }
            let now = Uptime.now()
            let timeout = connections.map(\.deadline).min().map { Int32(clamping: ($0 > now ? $0 - now : 0) / 1_000_000 + 1) } ?? -1
            guard poll(&fds, nfds_t(fds.count), timeout) >= 0 || errno == EINTR else { break }
            if fds[0].revents != 0 {
                var drained = [UInt8](repeating: 0, count: 64)
                _ = read(wake.read, &drained, drained.count)
                let (closing, delivered) = shared.withLock { shared in
                    defer { shared.delivered = [:] }
                    return (shared.closing, shared.delivered)
                }
                if closing { break }
                for index in connections.indices {
                    if let endpoint = connections[index].awaited, let response = delivered[endpoint] { connections[index].respond(response) }
                }
            }
            // Connections first: a request that has arrived is read before newcomers may push it out.
            let ready = Dictionary(uniqueKeysWithValues: fds.dropFirst(2).map { ($0.fd, $0.revents) })
            let moment = Uptime.now()
            for index in connections.indices {
                if let events = ready[connections[index].fd], events != 0 { connections[index].handle(events) }
                if connections[index].deadline <= moment { connections[index].expire() }
            }
            closeFinished(&connections)
            if fds[1].revents != 0 { acceptAll(&connections) }
            closeBeyondUnreadLimit(&connections)
            answer(&connections, loader)
        }
        connections.forEach { Glibc.close($0.fd) }
        Glibc.close(listener)
        shared.withLock { shared in
            shared.closed = true
            Glibc.close(wake.read)
            Glibc.close(wake.write)
        }
    }

    /// Accepts every waiting connection, making room when at the limit by closing the one whose
    /// request has been incomplete the longest, else the one whose response has waited the
    /// longest. A new connection's request, often there already, is read at once.
    private func acceptAll(_ connections: inout [HTTPConnection]) {
        while true {
            let fd = luminal_accept(listener)
            guard fd >= 0 else { return }
            if connections.count >= Self.connectionLimit { makeRoom(&connections) }
            var size = Self.sendBufferBytes
            _ = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            var connection = HTTPConnection(fd: fd)
            connection.handle(Int16(POLLIN))
            if connection.done {
                Glibc.close(fd)
            } else {
                connections.append(connection)
            }
        }
    }

    /// Closes the connection whose request has been incomplete the longest, else the one whose
    /// response has waited the longest. A candidate still reading its request is read once more
    /// first: a request that arrived since the last poll (a scraper's, while newcomers were being
    /// accepted) is taken, not mistaken for an incomplete one.
    private func makeRoom(_ connections: inout [HTTPConnection]) {
        // Clients that hung up while waiting for the reading hold a place for nothing: they go
        // first (a flood that sends whole requests and hangs up would otherwise push out the
        // scraper that has waited longest).
        let waiting = connections.indices.filter { connections[$0].awaited != nil }
        var probes = waiting.map { pollfd(fd: connections[$0].fd, events: luminal_pollrdhup, revents: 0) }
        if !probes.isEmpty, poll(&probes, nfds_t(probes.count), 0) > 0 {
            for (index, probe) in zip(waiting, probes) where probe.revents != 0 { connections[index].handle(probe.revents) }
            closeFinished(&connections)
            if connections.count < Self.connectionLimit { return }
        }
        var reread = Set<Int32>()
        while let first = connections.indices.min(by: { connections[$0].standing < connections[$1].standing }) {
            if case .reading = connections[first].standing, reread.insert(connections[first].fd).inserted {
                connections[first].handle(Int16(POLLIN))
                if !connections[first].done { continue }
            }
            Glibc.close(connections.remove(at: first).fd)
            return
        }
    }

    /// Closes and drops the connections that are done.
    private func closeFinished(_ connections: inout [HTTPConnection]) {
        connections.removeAll { connection in
            if connection.done { Glibc.close(connection.fd) }
            return connection.done
        }
    }

    /// Closes connections holding responses that wait to be read, the oldest first, until those
    /// left hold at most `unreadLimit` bytes; the newest response is kept.
    private func closeBeyondUnreadLimit(_ connections: inout [HTTPConnection]) {
        var held: [ObjectIdentifier: (response: SharedResponse, since: HTTPConnection.Standing)] = [:]
        for connection in connections {
            guard let response = connection.heldResponse else { continue }
            let key = ObjectIdentifier(response)
            held[key] = (response, min(held[key]?.since ?? connection.standing, connection.standing))
        }
        var total = held.values.reduce(0) { $0 + $1.response.count }
        guard total > unreadLimit else { return }
        // The oldest go first, until the rest fit; the newest stays.
        var dropped = Set<ObjectIdentifier>()
        for (key, entry) in held.sorted(by: { $0.value.since < $1.value.since }).dropLast() where total > unreadLimit {
            dropped.insert(key)
            total -= entry.response.count
        }
        connections.removeAll { connection in
            guard let response = connection.heldResponse, dropped.contains(ObjectIdentifier(response)) else { return false }
            Glibc.close(connection.fd)
            return true
        }
    }

    /// Answers the connections waiting for an endpoint: `/readyz` at once while the host says it
    /// is not ready; otherwise each endpoint asked for is read, unless its reading is under way.
    private func answer(_ connections: inout [HTTPConnection], _ loader: Loader) {
        let asked = Set(connections.compactMap(\.awaited))
        guard !asked.isEmpty else { return }
        let (notReady, start) = shared.withLock { shared in
            // While not ready, `/readyz` is answered below without a reading.
            let start = asked.subtracting(shared.reading).subtracting(shared.notReady == nil ? [] : [.readyz])
            shared.reading.formUnion(start)
            return (shared.notReady, start)
        }
        if let notReady, asked.contains(.readyz) {
            let response = Self.notReadyResponse(notReady)
            for index in connections.indices where connections[index].awaited == .readyz { connections[index].respond(response) }
        }
        for endpoint in start { startReading(endpoint, loader) }
    }

    /// Reads `endpoint` on the cooperative pool and hands its response to the server's thread.
    private func startReading(_ endpoint: Endpoint, _ loader: Loader) {
        Task { [self] in
            var response: SharedResponse
            switch endpoint {
            case .metrics:
                response = SharedResponse(.ok, body: await loader.metricsExposition(), contentType: "text/plain; version=0.0.4; charset=utf-8")
            case .livez:
                // The loader's actor answers: its loop is not wedged.
                _ = await loader.isWatching
                response = SharedResponse(.ok, "ok: the supervisor answers\n")
            case .readyz:
                let unready = await Readiness.unready(of: loader)
                response = unready.isEmpty ? SharedResponse(.ok, "ok: every photon is started\n")
                    : SharedResponse(.serviceUnavailable, unready.map { Readiness.line($0) + "\n" }.joined())
            }
            shared.withLock { shared in
                // A stop begun during the reading wins over what it found.
                if endpoint == .readyz, let notReady = shared.notReady { response = Self.notReadyResponse(notReady) }
                shared.reading.remove(endpoint)
                shared.delivered[endpoint] = response
                if !shared.closed { signalWake() }
            }
        }
    }

    /// `/readyz`'s answer while the host says it is not ready.
    private static func notReadyResponse(_ reason: String) -> SharedResponse {
        // One line whatever the reason holds (a folder's name with a line feed in it, say).
        SharedResponse(.serviceUnavailable, "not ready: \(Readiness.escaped(reason))\n")
    }
}
