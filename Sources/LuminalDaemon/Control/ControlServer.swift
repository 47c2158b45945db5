import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Luminal
import _LuminalCShims
import LuminalSystem
import LuminalWire
import Synchronization

/// The control socket of a supervisor: `luminal status`, `reload`, `call`… connect here.
///
/// A Unix stream socket, mode 0600, speaking the worker protocol's framing (see
/// protocol/CONTROL.md). Every client is checked by its credentials (`SO_PEERCRED`): only the
/// supervisor's own user and root are served, and a process of a photon's tree (its cgroup, its
/// descendants, what it left to the supervisor) only when that photon's manifest says
/// `"control": "allow"`. A descendant of the supervisor that came from a worker tree is a
/// photon's process whatever its cgroup and environment: it is refused unless it can be
/// attributed to such a photon. Anyone else refused gets a `refused` reply, and the attempt is
/// logged (within the warning rate limit, `WarningLimiter`).
public final class ControlServer: Sendable {
    /// The largest request frame accepted; a bigger one gets a `badRequest` reply.
    public static let requestCap = 1024 * 1024
    /// The largest reply frame sent, and the largest `ControlClient` accepts: a final reply that
    /// would be larger is replaced by a `limitExceeded` error, a streamed item by a note that it
    /// was left out.
    public static let replyCap = Frame.defaultCap
    /// The most bytes of a reply's JSON text one `{"part": …}` frame carries: escaped as a JSON
    /// string it at most doubles, so the frame stays under `replyCap`, and it fits the room
    /// pacing leaves under `outputLimit`.
    public static let partBytes = 4 * 1024 * 1024
    /// The most reply bytes that may wait for one client; a client that lets more wait (it stopped
    /// reading) is disconnected, and logged with its pid. One reply always fits when none waits.
    public static let outputLimit = 16 * 1024 * 1024
    /// The most requests one connection may have waiting for their replies (a client sends one
    /// and reads its reply before the next); one more and it is disconnected, and logged.
    public static let requestsInFlightLimit = 8
    /// The most clients connected at once. A newcomer past it makes room: the client idle the
    /// longest (no request waiting for its reply) is closed, else the oldest stream (`events`,
    /// `logs -f`) gets a `limitExceeded` reply and is closed; only when every client has a call or
    /// another request being answered is the newcomer refused with `limitExceeded`.
    public static let connectionLimit = 64
    /// How long a client may stay connected with no request waiting for its reply (none sent
    /// yet, a request only partly sent, or every reply read) before it is closed.
    public static let idleTimeout: Duration = .seconds(30)

    /// Where the socket is.
    public let path: String
    /// How long an idle client stays connected (`idleTimeout` unless the host chose).
    public let idleLimit: Duration
    private let dispatcher: ControlDispatcher
    private let queue = DispatchQueue(label: "luminal.control")
    private let state: Mutex<State>

    private struct State {
        var listener: Int32
        var token: EventLoop.Token?
        var connections: [Int: ControlConnection] = [:]
        var nextID = 0
        /// Connections that ended before they were recorded in `connections` (a client that
        /// hangs up at once): not to be recorded, or they would hold a place forever.
        var endedUnrecorded: Set<Int> = []
        /// Closes idle clients; armed while any client is connected.
        var idleTimer: DispatchSourceTimer?
    }

    /// Listens at `path` for requests to `loader`; `logBook` serves `luminal logs`. A client with
    /// no request waiting for its reply for `idleTimeout` is closed. `loadingFolder`: the folder
    /// the host is about to load, which `status` lists as loading (never healthy) until
    /// `folderLoaded()`.
    public init(loader: Loader, path: String, logBook: LogBook? = nil, idleTimeout: Duration = ControlServer.idleTimeout,
                loadingFolder: String? = nil) throws(SystemError) {
        self.path = Paths.absolute(path)
        idleLimit = idleTimeout
        dispatcher = ControlDispatcher(loader: loader, logBook: logBook, loadingFolder: loadingFolder.map(LoadingFolder.init))
        state = Mutex(State(listener: try UnixSocket.listen(at: self.path)))
        let listener = state.withLock { $0.listener }
        let token = EventLoop.shared.add(listener, waking: self, on: queue) { $0.acceptAll() }
        state.withLock { $0.token = token }
        queue.async { self.acceptAll() }
    }

    /// The first load of the folder given as `loadingFolder` is over: `status` no longer lists it.
    public func folderLoaded() {
        dispatcher.loadingFolder?.loaded()
    }

    /// Stops listening, hangs up on every client and removes the socket file.
    public func close() {
        closeListener()
        let (connections, timer) = state.withLock { state in
            defer { state = State(listener: -1) }
            return (Array(state.connections.values), state.idleTimer)
        }
        timer?.cancel()
        connections.forEach { $0.close() }
    }

    /// How often `drain(within:)` looks again at the clients.
    static let drainPoll: Duration = .milliseconds(5)

    /// Waits until no client has a request waiting for its reply (streams aside: `events` and
    /// `logs -f` never end by themselves), or `limit` has passed: a stopping supervisor answers
    /// the calls its clients sent before it stops the workers, those queued behind another on a
    /// connection too. Looks every `drainPoll`; false when `limit` passed first.
    @discardableResult
    public func drain(within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while state.withLock({ $0.connections.values.contains { $0.activity == .busy } }) {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: Self.drainPoll)
        }
        return true
    }

    /// Stops listening and removes the socket file; the clients connected stay served, so that
    /// the replies to the calls they are waiting for reach them (a supervisor that is stopping
    /// drains its calls before `close()`). Clients that connected already but were not accepted
    /// yet are accepted first. Not to be called on the server's queue.
    public func stopListening() {
        queue.sync { acceptAll() }
        closeListener()
    }

    /// Closes the listener and removes the socket file, once.
    private func closeListener() {
        let (listener, token) = state.withLock { state in
            defer { (state.listener, state.token) = (-1, nil) }
            return (state.listener, state.token)
        }
        guard listener >= 0 else { return }
        token.map(EventLoop.shared.remove)
        closeQuietly(listener)
        unlink(path)
    }

    deinit { close() }

    private func acceptAll() {
        while true {
            let listener = state.withLock { $0.listener }
            guard listener >= 0 else { return }
            let fd = luminal_accept(listener)
            if fd < 0 {
                let failure = errno
                if failure == EINTR || failure == ECONNABORTED { continue }
                if failure != EAGAIN {
                    dispatcher.loader.context.log.limited(.warning, "control.accept", "control socket \(path): accept failed: \(SystemError(errno: failure, "accept"))")
                }
                return
            }
            guard let pid = admitted(fd) else { continue }
            guard makeRoom(for: pid) else {
                refuse(fd, "control client pid \(pid) refused: \(Self.connectionLimit) clients are connected already, each with a request being answered, the most this supervisor serves at once",
                       kind: "control.full")
                continue
            }
            let id = state.withLock { state in
                state.nextID += 1
                return state.nextID
            }
            do {
                let connection = try ControlConnection(fd: fd, pid: pid, dispatcher: dispatcher) { [weak self] in
                    self?.state.withLock { state in
                        if state.connections.removeValue(forKey: id) == nil { state.endedUnrecorded.insert(id) }
                    }
                }
                state.withLock { state in
                    if state.endedUnrecorded.remove(id) == nil { state.connections[id] = connection }
                }
                armIdleTimer(at: Uptime.after(idleLimit, from: Uptime.now()))
            } catch {
                dispatcher.loader.context.log.limited(.warning, "control.connection", "control socket \(path): \(error)")
            }
        }
    }

    /// Makes room for client `pid` when `connectionLimit` clients are connected: closes the one
    /// idle the longest, else the oldest stream (with a reply saying why); false if every one has
    /// a request being answered. A client that reconnects as soon as it is closed is the newest,
    /// so it is the last to go.
    private func makeRoom(for pid: pid_t) -> Bool {
        let connections = state.withLock { state in
            state.connections.count < Self.connectionLimit ? [] : Array(state.connections)
        }
        guard !connections.isEmpty else { return true }
        var idlest: (id: Int, since: UInt64)?, oldestStream: (id: Int, since: UInt64)?
        for (id, connection) in connections {
            switch connection.activity {
            case .idle(let since): if since < idlest?.since ?? .max { idlest = (id, since) }
            case .streaming(let since): if since < oldestStream?.since ?? .max { oldestStream = (id, since) }
            case .busy: break
            }
        }
        guard let victim = idlest ?? oldestStream,
              let connection = state.withLock({ $0.connections.removeValue(forKey: victim.id) }) else { return false }
        if idlest == nil {
            let reason = "closed to make room for another client: \(Self.connectionLimit) clients were connected, the most this supervisor serves at once, and this stream was the oldest"
            dispatcher.loader.context.log.limited(.warning, "control.evicted",
                "control client pid \(pid) connected while \(Self.connectionLimit) clients were connected, none idle: the oldest stream was closed to make room")
            connection.evict(reason)
        } else {
            connection.evict("closed to make room for another client: it was the one idle the longest")
        }
        return true
    }

    /// Arms the idle timer to fire by `deadline` (`Uptime`), unless it already will.
    private func armIdleTimer(at deadline: UInt64) {
        state.withLock { state in
            guard state.listener >= 0, state.idleTimer == nil else { return }
            let timer = DispatchSource.makeTimerSource(queue: queue)
            timer.setEventHandler { [weak self] in self?.closeIdleClients() }
            timer.schedule(deadline: DispatchTime(uptimeNanoseconds: deadline))
            timer.resume()
            state.idleTimer = timer
        }
    }

    /// Closes every client idle for `idleLimit`, and arms the timer for the next one that could be.
    private func closeIdleClients() {
        let connections = state.withLock { state in
            state.idleTimer = nil
            return Array(state.connections)
        }
        let now = Uptime.now()
        var next = connections.isEmpty ? nil : Uptime.after(idleLimit, from: now)
        for (id, connection) in connections {
            guard case .idle(let since) = connection.activity else { continue }
            let due = Uptime.after(idleLimit, from: since)
            if due <= now {
                state.withLock { _ = $0.connections.removeValue(forKey: id) }
                connection.evict("idle for \(idleLimit)")
            } else {
                next = min(next ?? due, due)
            }
        }
        if let next { armIdleTimer(at: next) }
    }

    /// The pid of the client on `fd` if it is this user or root; if not, it is told so, logged and closed.
    private func admitted(_ fd: Int32) -> pid_t? {
        var pid: pid_t = 0, uid: uid_t = 0
        guard luminal_peer_credentials(fd, &pid, &uid) == 0 else {
            closeQuietly(fd)
            return nil
        }
        guard uid == getuid() || uid == 0 else {
            refuse(fd, "control client pid \(pid) (uid \(uid)) refused: only uid \(getuid()) and root may control this supervisor", code: .refused,
                   kind: "control.refused", subject: "uid \(uid)")
            return nil
        }
        if let worker = dispatcher.loader.context.worker(containing: pid) {
            guard worker.file.mayControl else {
                refuse(fd, "control client pid \(pid) refused: it is a process of photon file \(worker.file.path) (worker pid \(worker.pid)), and photons may not drive their supervisor unless their manifest says \"control\": \"allow\"", code: .refused,
                       kind: "control.refused", subject: worker.file.path)
                return nil
            }
        } else if let orphan = ChildRegistry.shared.orphanAncestor(of: pid) {
            refuse(fd, "control client pid \(pid) refused: it descends from pid \(orphan.pid), a process a photon left behind (re-parented to the supervisor), and no photon whose manifest says \"control\": \"allow\" accounts for it", code: .refused,
                   kind: "control.refused", subject: "orphan")
            return nil
        }
        return pid
    }

    /// Sends `message` to the client on `fd` as a `code` error, logs it as a warning of `kind`
    /// about `subject` (rate-limited: a client refused in a loop cannot flood the log), and closes
    /// the connection.
    private func refuse(_ fd: Int32, _ message: String, code: ControlReply.Code = .limitExceeded, kind: String, subject: String = "") {
        dispatcher.loader.context.log.limited(.warning, kind, subject: subject, message)
        let reply = Frame.encode(ControlReply.failure(.init(code, message)).json)
        _ = reply.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        // Unread bytes at close would reset the connection before the client reads the reply.
        var scratch = [UInt8](repeating: 0, count: 4096)
        while scratch.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) > 0 {}
        closeQuietly(fd)
    }
}
