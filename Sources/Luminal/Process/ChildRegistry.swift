#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The pids of the workers the supervisor spawned and reaps through their pidfds.
///
/// The orphan sweep reaps every other zombie child of a worker tree; it must never reap a worker
/// (its exit status belongs to the worker's pidfd), so spawning and sweeping share this lock.
final class ChildRegistry: Sendable {
    /// The one registry of this process.
    static let shared = ChildRegistry()

    private let workers = Mutex<Set<pid_t>>([])

    /// Runs `spawn` under the lock and records the pid it returns.
    func spawning<E: Error>(_ spawn: () throws(E) -> pid_t) throws(E) -> pid_t {
        try workers.withLock { (set: inout Set<pid_t>) throws(E) -> pid_t in
            let pid = try spawn()
            set.insert(pid)
            return pid
        }
    }

    /// The pids of the workers not yet forgotten.
    var workerPIDs: Set<pid_t> {
        workers.withLock { $0 }
    }

    /// Runs `census` with the workers' pids while no worker can be spawned: every child of the
    /// supervisor it sees is then either in that set or not a worker at all (a worker being
    /// spawned is, until its `exec`, a child without its marker, in a group of its own).
    func withoutSpawning<T>(_ census: (Set<pid_t>) -> T) -> T {
        workers.withLock { census($0) }
    }

    /// Forgets a worker once its exit status has been collected.
    func forget(_ pid: pid_t) {
        _ = workers.withLock { $0.remove(pid) }
    }

    /// Whether `child`, a child of the supervisor that is not one of `workers`, came from a worker
    /// tree (adopted through the subreaper): it is not in the supervisor's own process group, where
    /// the host's own children are. Workers run in sessions of their own, so nothing they start can
    /// join that group. As PID 1 every orphan is the supervisor's, whatever its group.
    static func cameFromAWorker(_ child: ProcStat, workers: Set<pid_t>) -> Bool {
        !workers.contains(child.pid) && (getpid() == 1 || child.pgid != getpgrp())
    }

    /// The live children of the supervisor that came from a worker tree and are no worker.
    func orphans() -> [ProcStat] {
        workers.withLock { set in
            Procfs.childPIDs(of: getpid()).compactMap(Procfs.stat).filter { $0.state != "Z" && Self.cameFromAWorker($0, workers: set) }
        }
    }

    /// The child of the supervisor through which `pid` descends from it, if that child came from
    /// a worker tree (`cameFromAWorker`): `pid` is then a process a photon left behind, or one of
    /// its descendants. nil for the supervisor itself, its workers' trees, the host's own children
    /// and processes that do not descend from the supervisor.
    func orphanAncestor(of pid: pid_t) -> ProcStat? {
        let me = getpid()
        var seen: Set<pid_t> = []
        var current = pid
        while current > 1, current != me, seen.insert(current).inserted, let stat = Procfs.stat(current) {
            if stat.ppid == me { return Self.cameFromAWorker(stat, workers: workerPIDs) ? stat : nil }
            current = stat.ppid
        }
        return nil
    }

    /// Reaps zombie children of the supervisor that are not workers and that came from a worker
    /// tree (`cameFromAWorker`).
    func sweepOrphans() {
        workers.withLock { set in
            for pid in Procfs.childPIDs(of: getpid()) where !set.contains(pid) {
                guard let stat = Procfs.stat(pid), stat.state == "Z", Self.cameFromAWorker(stat, workers: set) else { continue }
                var status: Int32 = 0
                _ = waitpid(pid, &status, WNOHANG)
            }
        }
    }
}
