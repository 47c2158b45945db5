#if canImport(Glibc)
import Glibc
#endif
import LuminalSystem

extension ProcessTree {
    /// Which limit killed the worker that exited with `status`, if one did: an OOM kill in its
    /// cgroup, or the CPU-time limit's SIGXCPU.
    func limitThatKilled(_ status: ExitStatus) -> FailureClass? {
        if let cgroup, cgroup.oomKills > 0 { return .outOfMemory }
        if case .signaled(let signal, _) = status, signal == SIGXCPU { return .cpuTimeLimit }
        return nil
    }
}
