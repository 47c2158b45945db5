import Dispatch
import Glibc
import LuminalWire
import Synchronization
import _LuminalCShims

/// The control socket of a supervisor: `luminal status`, `reload`, `call`… connect here.
///
/// A Unix stream socket, mode 0600, speaking the worker protocol's framing (see
/// protocol/CONTROL.md). Every client is checked by its credentials (`SO_PEERCRED`): only the
/// supervisor's own user and root are served; anyone else gets a `refused` reply, and the
/// attempt is logged.
public final class ControlServer: Sendable {
    /// The largest request frame accepted; a bigger one gets a `badRequest` reply.
    public static let requestCap = 1024 * 1024

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
                if errno == EINTR || errno == ECONNABORTED { continue }
                if errno != EAGAIN {
                    dispatcher.loader.context.log(.warning, "control socket \(path): accept failed: \(SystemError("accept"))")
                }
                return
            }
            guard admitted(fd) else { continue }
            let id = state.withLock { state in
                state.nextID += 1
                return state.nextID
            }
            do {
                let connection = try ControlConnection(fd: fd, dispatcher: dispatcher) { [weak self] in
                    _ = self?.state.withLock { $0.connections.removeValue(forKey: id) }
                }
                state.withLock { $0.connections[id] = connection }
            } catch {
                dispatcher.loader.context.log(.warning, "control socket \(path): \(error)")
            }
        }
    }

    /// Whether the client on `fd` is this user or root; if not, it is told so, logged and closed.
    private func admitted(_ fd: Int32) -> Bool {
        var pid: pid_t = 0, uid: uid_t = 0
        guard luminal_peer_credentials(fd, &pid, &uid) == 0 else {
            closeQuietly(fd)
            return false
        }
        if uid == getuid() || uid == 0 { return true }
        let message = "control client pid \(pid) (uid \(uid)) refused: only uid \(getuid()) and root may control this supervisor"
        dispatcher.loader.context.log(.warning, message)
        let reply = Frame.encode(ControlReply.failure(.init(.refused, message)).json)
        _ = reply.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        // Unread bytes at close would reset the connection before the client reads the reply.
        var scratch = [UInt8](repeating: 0, count: 4096)
        while scratch.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) > 0 {}
        closeQuietly(fd)
        return false
    }
}
