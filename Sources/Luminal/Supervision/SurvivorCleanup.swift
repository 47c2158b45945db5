#if canImport(Glibc)
import Glibc
#endif
import _LuminalCShims

/// Finds and kills what a previous supervisor run left behind when it was killed outright.
///
/// Protocol workers exit by themselves when fd 3 reaches end of file; plain executables do not.
/// Every process a supervisor starts carries `LUMINAL_WORKER=<supervisor pid>.<serial>` in its
/// environment, and the supervisor records its own pid and start time in a state file. On the next
/// start, if the recorded supervisor is gone, every process still carrying its marker is killed.
/// A process that merely reuses a recorded pid has no marker and is never touched.
enum SurvivorCleanup {
    /// Kills the survivors of the run recorded in `stateFile`, then records this run there.
    /// Returns the pids it killed. Throws if another live supervisor owns the state file.
    static func takeOver(_ stateFile: String) throws(LoaderError) -> [pid_t] {
        var killed: [pid_t] = []
        if let recorded = try recordedSupervisor(stateFile) {
            if recorded.pid != getpid(), Procfs.stat(recorded.pid)?.startTime == recorded.startTime {
                throw LoaderError(.threadManagerAlreadyRunning, "state file \(stateFile) belongs to a supervisor that is still running (pid \(recorded.pid)); use another state file", file: stateFile)
            }
            if recorded.pid != getpid() { killed = killMarked(by: recorded.pid) }
        }
        let me = Procfs.stat(getpid())?.startTime ?? 0
        let text = "\(getpid()) \(me)\n"
        do throws(SystemError) {
            try StateFolder.open(stateFile).replace(Paths.name(stateFile), with: Array(text.utf8))
        } catch {
            throw LoaderError(.spawnFailed, "cannot write the state file \(stateFile): \(error)", file: stateFile)
        }
        return killed
    }

    /// Removes the state file of this run (after a clean shutdown).
    static func release(_ stateFile: String) {
        guard (try? recordedSupervisor(stateFile))?.pid == getpid() else { return }
        (try? StateFolder.open(stateFile))?.remove(Paths.name(stateFile))
    }

    /// The supervisor the state file records; nil if there is none. Throws if the file cannot be
    /// trusted (`StateFolder.read`): a root supervisor must not signal what another user wrote.
    private static func recordedSupervisor(_ stateFile: String) throws(LoaderError) -> (pid: pid_t, startTime: UInt64)? {
        guard let bytes = try StateFolder.read(stateFile) else { return nil }
        let fields = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isWhitespace)
        guard fields.count >= 2, let pid = pid_t(fields[0]), let start = UInt64(fields[1]) else { return nil }
        return (pid, start)
    }

    /// SIGKILLs every process whose environment carries a marker of supervisor `pid`.
    private static func killMarked(by pid: pid_t) -> [pid_t] {
        let prefix = "\(WorkerMarker.variable)=\(pid)."
        var killed: [pid_t] = []
        for process in Procfs.allProcesses() where process.pid != getpid() && Procfs.environment(of: process.pid, hasPrefix: prefix) {
            // Through a pidfd, checking the marker again once it is open: no reused pid is hit.
            let pidfd = luminal_pidfd_open(process.pid)
            guard pidfd >= 0 else { continue }
            defer { closeQuietly(pidfd) }
            if Procfs.environment(of: process.pid, hasPrefix: prefix), luminal_pidfd_send_signal(pidfd, SIGKILL) == 0 {
                killed.append(process.pid)
            }
        }
        return killed
    }
}
