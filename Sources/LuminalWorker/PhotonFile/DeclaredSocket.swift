import LuminalSystem
import LuminalWire

/// A listening socket a package's manifest declares (`"sockets"`): the supervisor binds it once
/// and hands it to every worker of the file (`HeldSocket`, PROTOCOL.md §1.3).
package struct DeclaredSocket: Sendable, Hashable {
    /// The name the worker finds it by (`LISTEN_FDNAMES`).
    package let name: String
    /// Where it listens.
    package let address: SocketAddress

    /// The variables that tell a worker of its sockets (`count`, `names`, `pid`): systemd's for a
    /// plain executable, whose sockets start at fd 3; `LUMINAL_`-prefixed ones for a protocol
    /// worker, whose sockets start at fd 5 (fds 3 and 4 are the protocol's, which a library
    /// following systemd's convention would take for sockets).
    package static func variables(plain: Bool) -> (count: String, names: String, pid: String) {
        plain ? ("LISTEN_FDS", "LISTEN_FDNAMES", "LISTEN_PID") : ("LUMINAL_LISTEN_FDS", "LUMINAL_LISTEN_FDNAMES", "LUMINAL_LISTEN_PID")
    }

    /// Every variable of both kinds: the supervisor sets them, and never passes on its own.
    package static let reservedVariables: [String] = {
        let plain = variables(plain: true), luminal = variables(plain: false)
        return [plain.count, plain.names, plain.pid, luminal.count, luminal.names, luminal.pid]
    }()
}
