#if canImport(Glibc)
import Glibc
#endif
import LuminalSystem

/// Tells systemd (or any service manager speaking its notify protocol) how the supervisor is
/// doing: `READY=1`, `STOPPING=1`, `STATUS=…` and watchdog pings, as datagrams on `$NOTIFY_SOCKET`.
public final class SystemdNotifier: Sendable {
    /// The notify socket: a path, or "@name" in the abstract namespace.
    public let socketPath: String
    /// How often the service manager expects a `WATCHDOG=1` (`$WATCHDOG_USEC`), if it does.
    public let watchdogInterval: Duration?
    private let fd: Int32

    /// The notifier the service manager asked for, if any. Takes `NOTIFY_SOCKET`, `WATCHDOG_USEC`
    /// and `WATCHDOG_PID` out of the environment, so that workers never see (and use) them.
    public static func fromEnvironment() -> SystemdNotifier? {
        func take(_ name: String) -> String? {
            defer { unsetenv(name) }
            return getenv(name).map { String(cString: $0) }
        }
        let socket = take("NOTIFY_SOCKET"), usec = take("WATCHDOG_USEC").flatMap { Int64($0) }, pid = take("WATCHDOG_PID")
        guard let socket, !socket.isEmpty else { return nil }
        let forUs = pid.map { Int32($0) == getpid() } ?? true
        return try? SystemdNotifier(socketPath: socket, watchdogInterval: forUs ? usec.flatMap { $0 > 0 ? .microseconds($0) : nil } : nil)
    }

    /// A notifier sending to `socketPath`.
    public init(socketPath: String, watchdogInterval: Duration? = nil) throws(SystemError) {
        self.socketPath = socketPath
        self.watchdogInterval = watchdogInterval
        fd = try UnixSocket.make(Int32(SOCK_DGRAM.rawValue))
    }

    deinit { closeQuietly(fd) }

    /// Sends `assignments` (e.g. ["READY=1", "STATUS=3 photons started"]) as one datagram;
    /// false if the service manager could not be reached.
    @discardableResult
    public func notify(_ assignments: [String]) -> Bool {
        let message = Array(assignments.joined(separator: "\n").utf8)
        let sent = try? UnixSocket.withAddress(socketPath) { address, length in
            message.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), address, length) }
        }
        return sent == message.count
    }
}
