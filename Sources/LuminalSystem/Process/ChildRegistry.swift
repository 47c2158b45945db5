#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The pids of the workers the supervisor spawned and reaps through their pidfds, and the spawns
/// under way.
///
/// The orphan sweep reaps every other zombie child of a worker tree and the orphan ledger claims
/// every other live one; neither may take a worker (its exit status belongs to the worker's
/// pidfd), nor a worker being spawned: until its `exec` returns it is a child with no marker and
/// a session of its own, which would pass for an orphan. A spawn is not locked out for that (it
/// lasts until the child's `exec`, which under load can take long, and a worker's exit would wait
/// for it): a census reads the children first and then, in one snapshot, the workers and the
/// earliest start of a spawn under way, and leaves out every child started since then.
package final class ChildRegistry: Sendable {
    /// The one registry of this process.
    package static let shared = ChildRegistry()

    private struct State {
        var workers: Set<pid_t> = []
        /// When each spawn under way began, in clock ticks since boot (the unit of `ProcStat.startTime`).
        var spawnsSince: [UInt64] = []
    }

    private let state = Mutex(State())

    /// What a census of the supervisor's children found.
    package struct Census: Sendable {
        /// The workers' pids, taken after the children were listed.
        package let workers: Set<pid_t>
        /// The children that are neither workers nor possibly a worker being spawned.
        package let others: [ProcStat]
    }

    /// Runs `spawn` and records the pid it returns; while it runs, children started since it
    /// began are left out of every census.
    func spawning<E: Error>(_ spawn: () throws(E) -> pid_t) throws(E) -> pid_t {
        let since = Procfs.ticksSinceBoot()
        state.withLock { $0.spawnsSince.append(since) }
        func finish(_ pid: pid_t?) {
            state.withLock { state in
                if let index = state.spawnsSince.firstIndex(of: since) { state.spawnsSince.remove(at: index) }
                if let pid { state.workers.insert(pid) }
            }
        }
        do throws(E) {
            let pid = try spawn()
            finish(pid)
            return pid
        } catch {
            finish(nil)
            throw error
        }
    }

    /// The pids of the workers not yet forgotten.
    var workerPIDs: Set<pid_t> {
        state.withLock { $0.workers }
    }

    /// The supervisor's children, split as `Census` says. A child listed before the snapshot was
    /// spawned either before it (then it is a worker) or by a spawn still under way (then it
    /// started after that spawn began).
    package func census() -> Census {
        let children = Procfs.childPIDs(of: getpid())
        let (workers, since) = state.withLock { ($0.workers, $0.spawnsSince.min()) }
        let others = children.lazy.filter { !workers.contains($0) }.compactMap(Procfs.stat)
            .filter { child in since.map { child.startTime < $0 } ?? true }
        return Census(workers: workers, others: Array(others))
    }

    /// Forgets a worker once its exit status has been collected.
    func forget(_ pid: pid_t) {
        _ = state.withLock { $0.workers.remove(pid) }
    }

    /// Whether `child`, a child of the supervisor that is not one of `workers`, came from a worker
    /// tree (adopted through the subreaper): it is not in the supervisor's own process group, where
    /// the host's own children are. Workers run in sessions of their own, so nothing they start can
    /// join that group. As PID 1 every orphan is the supervisor's, whatever its group.
    static func cameFromAWorker(_ child: ProcStat, workers: Set<pid_t>) -> Bool {
        !workers.contains(child.pid) && (getpid() == 1 || child.pgid != getpgrp())
    }

    /// The live children of the supervisor that came from a worker tree and are no worker.
    package func orphans() -> [ProcStat] {
        let census = census()
        return census.others.filter { $0.state != "Z" && Self.cameFromAWorker($0, workers: census.workers) }
    }

    /// The child of the supervisor through which `pid` descends from it, if that child came from
    /// a worker tree (`cameFromAWorker`): `pid` is then a process a photon left behind, or one of
    /// its descendants. nil for the supervisor itself, its workers' trees, the host's own children
    /// and processes that do not descend from the supervisor.
    package func orphanAncestor(of pid: pid_t) -> ProcStat? {
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
    package func sweepOrphans() {
        let census = census()
        for stat in census.others where stat.state == "Z" && Self.cameFromAWorker(stat, workers: census.workers) {
            var status: Int32 = 0
            _ = waitpid(stat.pid, &status, WNOHANG)
        }
    }
}
