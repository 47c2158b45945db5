#if canImport(Glibc)
import Glibc
#endif

extension HeldSockets {
    /// The listening sockets the host handed this worker (the manifest's `sockets`), in order;
    /// empty when it handed none. Accept on them as on any listening socket; they are blocking.
    public static func inherited() -> [Entry] {
        func variable(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
        return listed(count: variable("LUMINAL_LISTEN_FDS"), names: variable("LUMINAL_LISTEN_FDNAMES"),
                      pid: variable("LUMINAL_LISTEN_PID"), ownPID: getpid())
    }
}
