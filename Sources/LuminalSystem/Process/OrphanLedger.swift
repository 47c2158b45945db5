#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Which worker tree each hidden orphan came from.
///
/// A descendant of a worker that calls `setsid` and drops the `LUMINAL_WORKER` marker is found by
/// neither the process-group rule nor the marker rule once its ancestors are gone. The supervisor
/// is a child subreaper, so such a process is re-parented to it, and the kernel does that before
/// it reports the exit of the worker whose tree it belonged to. So, when a worker exits, every
/// child of the supervisor that nothing else accounts for is claimed for that worker's tree, and
/// the tree's kill takes it along.
///
/// Accounted for, and so never claimed: workers; processes in the supervisor's own process group
/// (the host's own children); processes carrying a marker of this supervisor (the marker rule finds
/// them); processes that started before the exiting worker (they cannot descend from it).
/// Attribution is by timing: an unmarked daemon that double-forks away from a worker that is still
/// running is claimed by whichever worker exits next. A cgroup per worker makes it exact for what
/// stays in the cgroup; a process that left its cgroup (root can) is attributed here as well.
/// A census leaves out children started while a spawn was under way (`ChildRegistry.Census`): an
/// orphan started in that window is claimed by the next exit instead, and `unloadAll` kills it.
final class OrphanLedger: Sendable {
    /// The one ledger of this process.
    static let shared = OrphanLedger()

    private struct Claim {
        let startTime: UInt64
        /// The worker claimed for, by pid and start time (pids are reused).
        let root: pid_t
        let rootStart: UInt64
    }

    private let claims = Mutex<[pid_t: Claim]>([:])

    /// Claims for the worker `root`, which has just exited (not yet reaped), the supervisor's
    /// children that nothing else accounts for and that started after `rootStart`.
    func claimOrphans(of root: pid_t, startedAt rootStart: UInt64) {
        let ourMarkers = "\(WorkerMarker.variable)=\(WorkerMarker.ofThisRun)"
        let census = ChildRegistry.shared.census()
        claims.withLock { claims in
            claims = claims.filter { Procfs.stat($0.key)?.startTime == $0.value.startTime }
            for stat in census.others where claims[stat.pid] == nil {
                guard stat.state != "Z", ChildRegistry.cameFromAWorker(stat, workers: census.workers),
                      !census.workers.contains(stat.pgid), stat.startTime >= rootStart,
                      !Procfs.environment(of: stat.pid, hasPrefix: ourMarkers) else { continue }
                claims[stat.pid] = Claim(startTime: stat.startTime, root: root, rootStart: rootStart)
            }
        }
    }

    /// The live orphans claimed for the worker `root` that started at `rootStart`.
    func orphans(of root: pid_t, startedAt rootStart: UInt64) -> [pid_t] {
        claims.withLock { claims in
            claims.compactMap { pid, claim in
                claim.root == root && claim.rootStart == rootStart && Procfs.stat(pid)?.startTime == claim.startTime ? pid : nil
            }
        }
    }
}
