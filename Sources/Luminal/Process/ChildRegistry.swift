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

    /// Reaps zombie children of the supervisor that are not workers and that came from a worker
    /// tree (adopted through the subreaper): those in another process group than the supervisor's.
    /// As PID 1 every orphan is the supervisor's to reap, whatever its group.
    func sweepOrphans() {
        let ownGroup = getpgrp(), everyOrphan = getpid() == 1
        workers.withLock { set in
            for pid in Procfs.childPIDs(of: getpid()) where !set.contains(pid) {
                guard let stat = Procfs.stat(pid), stat.state == "Z", everyOrphan || stat.pgid != ownGroup else { continue }
                var status: Int32 = 0
                _ = waitpid(pid, &status, WNOHANG)
            }
        }
    }
}
