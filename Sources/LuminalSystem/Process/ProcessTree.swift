#if canImport(Glibc)
import Glibc
#endif
import _LuminalCShims
import Synchronization

/// Every process that belongs to one worker, and the means to end them all.
///
/// Members are found at the moment of signalling: the processes of the worker's cgroup when it
/// has one (SIGKILL is then also `cgroup.kill`, and the tree is gone when the cgroup is
/// unpopulated; it is removed then), the worker and its descendants (including ones that called
/// `setsid`), and children of the supervisor that are in the worker's process group, carry the
/// worker's marker in their environment (daemons that double-forked and were re-parented to the
/// supervisor, which is a child subreaper), or were claimed for the worker when it exited
/// (`OrphanLedger`: with a cgroup too, for a process that left it), with their descendants.
package struct ProcessTree: Sendable {
    /// The worker's pid and process group.
    package let root: pid_t
    /// When the worker started (clock ticks since boot): with `root`, it names the worker.
    package let rootStart: UInt64
    /// The environment entry every process of this worker inherited, e.g. `LUMINAL_WORKER=812-4711.3`.
    package let marker: String
    /// The worker's own cgroup, when it has one.
    package var cgroup: Cgroup?

    /// The live or zombie members, the root included while it exists.
    ///
    /// Walks `/proc/PID/task/*/children` from the root, the cgroup's processes and the
    /// supervisor's children that came from this worker (re-parented orphans: in its process
    /// group, carrying its marker, or claimed for it), so the cost follows the size of this tree,
    /// not the number of processes on the machine.
    package func members() -> [ProcStat] {
        let me = getpid()
        if let stat = Procfs.stat(root), stat.startTime == rootStart, stat.state == "Z" {
            // Ended, not yet reaped: its orphans are the supervisor's children already.
            OrphanLedger.shared.claimOrphans(of: root, startedAt: rootStart)
        }
        // Workers are children too, but never orphans of another worker: they need no reading.
        let workers = ChildRegistry.shared.workerPIDs
        var seeds = [root] + OrphanLedger.shared.orphans(of: root, startedAt: rootStart) + (cgroup?.processes() ?? [])
        for child in Procfs.childPIDs(of: me) where child != root && !workers.contains(child) {
            if Procfs.stat(child)?.pgid == root || Procfs.environment(of: child, contains: marker) { seeds.append(child) }
        }
        var found: [pid_t: ProcStat] = [:]
        while let pid = seeds.popLast() {
            guard pid != me, found[pid] == nil, let stat = Procfs.stat(pid) else { continue }
            found[pid] = stat
            seeds += Procfs.childPIDs(of: pid)
        }
        return Array(found.values)
    }

    /// Sends `signal` to every member, waits up to `timeout` for all of them to exit, and reaps
    /// the ones that ended up as the supervisor's children (the root is reaped by its own watcher).
    /// Returns true when no member is left alive.
    package func signal(_ signal: Int32, waitingUpTo timeout: Duration) async -> Bool {
        let handles = members().compactMap(MemberHandle.init)
        // The group id cannot have been reused while a verified member still holds it.
        if handles.contains(where: { $0.pgid == root }) { _ = kill(-root, signal) }
        // Everything in the cgroup, forks on the way included; and what is outside it.
        if signal == SIGKILL, let cgroup { _ = cgroup.killAll() }
        handles.forEach { $0.send(signal) }
        let exited = await waitForExit(handles.map(\.pidfd), timeout: timeout)
        for handle in handles where handle.pid != root { handle.reapIfChild() }
        handles.forEach { $0.close() }
        releaseIfEmpty()
        return exited
    }

    /// What the members use now; with a cgroup, its CPU time is the cgroup's (`cpu.stat`),
    /// which counts members that have ended too.
    package func usage() -> ProcessUsage {
        var usage = ProcessTable.usage(of: members().map(\.pid))
        if let seconds = cgroup?.cpuSeconds { usage.cpuSeconds = seconds }
        return usage
    }

    /// Removes the worker's cgroup once nothing is left in it.
    package func releaseIfEmpty() {
        guard let cgroup, !cgroup.isPopulated else { return }
        CgroupHost.shared.release(cgroup)
    }

    /// Ends the tree: `first` (e.g. SIGTERM), then SIGKILL for whatever outlives `grace`, repeated
    /// until a scan finds nothing (a member may fork while being killed), for at most 10 rounds.
    /// Returns true when the first signal sufficed.
    ///
    /// `grace` (the kill timeout) bounds each of the two steps: the wait after `first`, and the
    /// SIGKILL rounds together, counted from the first SIGKILL, which is `first` itself when that
    /// is SIGKILL. A round past that deadline still signals, without waiting. So the whole takes
    /// at most twice `grace`, or `grace` when `first` is SIGKILL, plus the scans.
    package func terminate(first: Int32, grace: Duration) async -> Bool {
        let start = ContinuousClock.now
        let gentle = await signal(first, waitingUpTo: grace)
        let deadline = (first == SIGKILL ? start : ContinuousClock.now) + grace
        for _ in 0..<10 {
            guard members().contains(where: { !($0.pid == root && $0.state == "Z") }) else { break }
            let left = ContinuousClock.now.duration(to: deadline)
            _ = await signal(SIGKILL, waitingUpTo: max(left, .zero))
            if left <= .zero { break }
        }
        return gentle
    }

    /// Waits until every pidfd is readable (its process exited), or `timeout`: true if all were.
    /// The event loop watches the pidfds, so no thread is held while they run.
    private func waitForExit(_ pidfds: [Int32], timeout: Duration) async -> Bool {
        if pidfds.isEmpty { return true }
        let left = Countdown(pidfds.count)
        var tokens: [EventLoop.Token] = []
        let exited = await awaitCallback(timeout: timeout) { (deliver: @escaping @Sendable (Bool) -> Void) in
            tokens = pidfds.map { EventLoop.shared.add($0, once: true) { if left.reachedZero() { deliver(true) } } }
        } ?? false
        // Before the caller closes the pidfds.
        tokens.forEach(EventLoop.shared.remove)
        return exited
    }

    package init(root: pid_t, rootStart: UInt64, marker: String, cgroup: Cgroup? = nil) {
        self.root = root
        self.rootStart = rootStart
        self.marker = marker
        self.cgroup = cgroup
    }
}

/// A count that any thread may take one from.
private final class Countdown: Sendable {
    private let left: Atomic<Int>

    init(_ count: Int) {
        left = Atomic(count)
    }

    /// Takes one: true for the call that leaves zero.
    func reachedZero() -> Bool {
        left.subtract(1, ordering: .acquiringAndReleasing).newValue == 0
    }
}

/// A pidfd opened on one member, checked to still be the process that was scanned.
private struct MemberHandle {
    let pid: pid_t
    let pgid: pid_t
    let pidfd: Int32

    init?(_ member: ProcStat) {
        let fd = luminal_pidfd_open(member.pid)
        guard fd >= 0 else { return nil }
        // The pid may have been reused between the scan and the open: compare start times.
        guard Procfs.stat(member.pid)?.startTime == member.startTime else {
            closeQuietly(fd)
            return nil
        }
        pid = member.pid
        pgid = member.pgid
        pidfd = fd
    }

    func send(_ signal: Int32) {
        _ = luminal_pidfd_send_signal(pidfd, signal)
    }

    func reapIfChild() {
        var info = luminal_exit_info()
        _ = luminal_waitid_pidfd(pidfd, WEXITED | WNOHANG, &info)
    }

    func close() {
        closeQuietly(pidfd)
    }
}
