import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import _LuminalCShims
import Synchronization

/// One spawned worker process, watched through its pidfd.
///
/// The event loop reports when the pidfd becomes readable; the process is then reaped on the
/// queue with `waitid(P_PIDFD)`, so no zombie is left and no other process's status is taken.
package final class ChildProcess: Sendable {
    /// The process id (also its process group id).
    package let pid: pid_t
    /// When it started, in clock ticks since boot (0 if it was already gone when watched).
    package let startTime: UInt64
    private let pidfd: Int32
    private let queue: DispatchQueue
    private let state = Mutex<State>(State())
    private let token = Mutex<EventLoop.Token?>(nil)

    private struct State {
        var status: ExitStatus?
        var observers: [@Sendable (ExitStatus) -> Void] = []
    }

    /// Starts watching `pid` through `pidfd`, delivering the exit on `queue`.
    package init(pid: pid_t, pidfd: Int32, queue: DispatchQueue) {
        self.pid = pid
        self.pidfd = pidfd
        startTime = Procfs.stat(pid)?.startTime ?? 0
        self.queue = queue
        let registration = EventLoop.shared.add(pidfd, once: true, waking: self, on: queue) { $0.reap() }
        token.withLock { $0 = registration }
    }

    deinit {
        state.withLock { state in
            if state.status == nil { release() }
        }
    }

    /// Stops watching and closes the pidfd. Called under the state lock, once.
    private func release() {
        token.withLock { $0 }.map(EventLoop.shared.remove)
        closeQuietly(pidfd)
    }

    /// The exit status, once the process has exited and been reaped.
    package var exitStatus: ExitStatus? { state.withLock { $0.status } }

    /// Calls `observer` once, on the queue, with the exit status.
    package func onExit(_ observer: @escaping @Sendable (ExitStatus) -> Void) {
        let done: ExitStatus? = state.withLock { state in
            if let status = state.status { return status }
            state.observers.append(observer)
            return nil
        }
        if let done { queue.async { observer(done) } }
    }

    /// Waits for the exit; nil if `timeout` passes first.
    package func waitForExit(timeout: Duration) async -> ExitStatus? {
        await awaitCallback(timeout: timeout) { deliver in onExit(deliver) }
    }

    /// Sends `signal` to the process; a process that already exited is not an error.
    package func signal(_ signal: Int32) {
        // Under the lock: once the status is recorded the pidfd is closed.
        state.withLock { state in
            if state.status == nil { _ = luminal_pidfd_send_signal(pidfd, signal) }
        }
    }

    private func reap() {
        // A zombie now (its pidfd is readable): its orphans were re-parented to the supervisor
        // before the exit was reported. Claimed before it is reaped, so that whoever sees it
        // gone (`ProcessTree.members`) finds them claimed.
        OrphanLedger.shared.claimOrphans(of: pid, startedAt: startTime)
        var info = luminal_exit_info()
        var rc: Int32
        repeat { rc = luminal_waitid_pidfd(pidfd, WEXITED | WNOHANG, &info) } while rc == -1 && errno == EINTR
        guard rc == 0, info.code != 0 else {
            // Readable but not reapable (never expected): watch again rather than lose the exit.
            token.withLock { $0 }.map { EventLoop.shared.arm($0) }
            return
        }
        let status: ExitStatus = info.code == CLD_EXITED
            ? .exited(code: info.status)
            : .signaled(signal: info.status, coreDumped: info.code == CLD_DUMPED)
        ChildRegistry.shared.forget(pid)
        let observers = state.withLock { state in
            state.status = status
            // Reaped: the pid is free now, so the pidfd has nothing left to do.
            release()
            defer { state.observers = [] }
            return state.observers
        }
        observers.forEach { $0(status) }
        ChildRegistry.shared.sweepOrphans()
    }
}
