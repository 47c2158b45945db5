import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import LuminalWire
import Synchronization
import _LuminalCShims

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
    /// The most reply bytes that may wait for one client; a client that lets more wait (it stopped
    /// reading) is disconnected, and logged with its pid. One reply always fits when none waits.
    public static let outputLimit = 16 * 1024 * 1024
    /// The most requests one connection may have waiting for their replies (a client sends one
    /// and reads its reply before the next); one more and it is disconnected, and logged.
    public static let requestsInFlightLimit = 8
    /// The most clients served at once; one more gets a `limitExceeded` reply and is
    /// disconnected, and those already connected carry on.
    public static let connectionLimit = 64

    /// Where the socket is.
    public let path: String
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
    }

    /// Listens at `path` for requests to `loader`; `logBook` serves `luminal logs`.
    public init(loader: Loader, path: String, logBook: LogBook? = nil) throws(SystemError) {
        self.path = Paths.absolute(path)
        dispatcher = ControlDispatcher(loader: loader, logBook: logBook)
        state = Mutex(State(listener: try UnixSocket.listen(at: self.path)))
        let listener = state.withLock { $0.listener }
        let token = EventLoop.shared.add(listener, waking: self, on: queue) { $0.acceptAll() }
        state.withLock { $0.token = token }
        queue.async { self.acceptAll() }
    }

    /// Stops listening, hangs up on every client and removes the socket file.
    public func close() {
        let (listener, token, connections) = state.withLock { state in
            defer { state = State(listener: -1) }
            return (state.listener, state.token, Array(state.connections.values))
        }
        guard listener >= 0 else { return }
        token.map(EventLoop.shared.remove)
        closeQuietly(listener)
        unlink(path)
        connections.forEach { $0.close() }
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
            let id = state.withLock { state -> Int? in
                guard state.connections.count < Self.connectionLimit else { return nil }
                state.nextID += 1
                return state.nextID
            }
            guard let id else {
                refuse(fd, "control client pid \(pid) refused: \(Self.connectionLimit) clients are connected already, the most this supervisor serves at once",
                       kind: "control.full")
                continue
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
            } catch {
                dispatcher.loader.context.log.limited(.warning, "control.connection", "control socket \(path): \(error)")
            }
        }
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
