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
        if let recorded = recordedSupervisor(stateFile) {
            if recorded.pid != getpid(), Procfs.stat(recorded.pid)?.startTime == recorded.startTime {
                throw LoaderError(.threadManagerAlreadyRunning, "state file \(stateFile) belongs to a supervisor that is still running (pid \(recorded.pid)); use another state file", file: stateFile)
            }
            if recorded.pid != getpid() { killed = killMarked(by: recorded.pid) }
        }
        let me = Procfs.stat(getpid())?.startTime ?? 0
        let text = "\(getpid()) \(me)\n"
        let temporary = stateFile + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let failure = SystemError(errno: errno, "open")
            throw LoaderError(.spawnFailed, "cannot write the state file \(stateFile): \(failure)", file: stateFile)
        }
        Array(text.utf8).withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
        close(fd)
        rename(temporary, stateFile)
        return killed
    }

    /// Removes the state file of this run (after a clean shutdown).
    static func release(_ stateFile: String) {
        if recordedSupervisor(stateFile)?.pid == getpid() { unlink(stateFile) }
    }

    private static func recordedSupervisor(_ stateFile: String) -> (pid: pid_t, startTime: UInt64)? {
        guard let bytes = try? Paths.read(stateFile, limit: 4096) else { return nil }
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
