#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
import _LuminalCShims
@testable import LuminalSystem

/// A pidfd on a process the test did not spawn (a worker of a `luminal run`, a daemon it left),
/// to await its end without any pid-reuse race.
final class ProcessWatch {
    let pid: pid_t
    private let pidfd: Int32

    /// Watches `pid`, which must exist now.
    init(_ pid: pid_t) throws {
        self.pid = pid
        pidfd = luminal_pidfd_open(pid)
        guard pidfd >= 0 else { throw SystemError(errno: errno, "pidfd_open \(pid)") }
    }

    deinit { closeQuietly(pidfd) }

    /// Whether the process has exited (a zombie counts).
    var ended: Bool {
        var entry = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) == 1
    }

    /// Waits up to the test deadline for the exit, then reaps it if it ended up this process's child.
    func awaitEnd(_ what: String) async throws {
        try await waitUntil(what) { ended }
        var info = luminal_exit_info()
        _ = luminal_waitid_pidfd(pidfd, WEXITED | WNOHANG, &info)
    }
}

/// Removes the cgroup folders a supervisor with pid `pid` left when it was killed outright (empty
/// once its workers are gone), so that a test leaves none behind.
func removeCgroupsLeft(by pid: pid_t) {
    guard case .success(let own) = CgroupHost.shared.availability else { return }
    for name in Paths.entries(of: own) ?? [] where name == "luminal-\(pid)" || name.hasPrefix("luminal-\(ProcessIdentity.currentNamespace)-\(pid)-") {
        Cgroup(path: Paths.join(own, name)).remove()
    }
}
