#if canImport(Glibc)
import Glibc
#endif
import _LuminalCShims
import LuminalSystem
import LuminalWorker

/// Finds and kills what a previous supervisor run left behind when it was killed outright.
///
/// Workers die with their supervisor (their parent-death signal); what they started may not.
/// Every process a supervisor starts carries `LUMINAL_WORKER=<pid namespace>-<supervisor pid>-<start time>.<serial>`
/// in its environment, and the supervisor records its identity (boot id, pid namespace, pid,
/// start time) in a state file. On the next start, if the recorded run is gone, every process
/// still carrying that run's marker is killed: a marker names one run, so the processes of another
/// supervisor, even one that got the same pid, are never touched. A record of another pid
/// namespace cannot be judged from here, and one in the older format (`PID START`, whose markers
/// named the pid alone) cannot be told from another run: each is logged and nothing is signalled.
enum SurvivorCleanup {
    /// Kills the survivors of the run recorded in `stateFile`, then records this run there.
    /// Returns the pids it killed; `note` hears about a record it would not act on. Throws if
    /// another live supervisor owns the state file.
    static func takeOver(_ stateFile: String, note: (String) -> Void) throws(LoaderError) -> [pid_t] {
        var killed: [pid_t] = []
        switch try recordedRun(stateFile) {
        case .run(let recorded)?:
            if recorded != .current, recorded.isRunning {
                throw LoaderError(.threadManagerAlreadyRunning, "state file \(stateFile) belongs to a supervisor that is still running (pid \(recorded.pid)); use another state file", file: stateFile)
            }
            if recorded != .current, recorded.isJudgeable {
                killed = killMarked(by: recorded)
            } else if recorded.bootID == ProcessIdentity.currentBoot, !recorded.isJudgeable {
                note("state file \(stateFile) was written by a supervisor in another pid namespace (pid \(recorded.pid) there): whether it still runs cannot be told from here, so nothing is killed")
            }
        case .olderFormat(let pid, let start)?:
            if pid != getpid(), Procfs.stat(pid)?.startTime == start {
                throw LoaderError(.threadManagerAlreadyRunning, "state file \(stateFile) belongs to a supervisor that is still running (pid \(pid)); use another state file", file: stateFile)
            }
            note("state file \(stateFile) was written by an older version (supervisor pid \(pid)): what that run left cannot be told from other processes, so nothing is killed")
        case nil:
            break
        }
        let me = ProcessIdentity.current
        let text = "\(me.bootID) \(me.namespace) \(me.pid) \(me.startTime)\n"
        do throws(SystemError) {
            try StateFolder.open(stateFile).replace(Paths.name(stateFile), with: Array(text.utf8))
        } catch {
            throw LoaderError(.spawnFailed, "cannot write the state file \(stateFile): \(error)", file: stateFile)
        }
        return killed
    }

    /// Removes the state file of this run (after a clean shutdown).
    static func release(_ stateFile: String) {
        guard case .run(let recorded)? = try? recordedRun(stateFile), recorded == .current else { return }
        (try? StateFolder.open(stateFile))?.remove(Paths.name(stateFile))
    }

    /// What a state file records.
    private enum Record {
        /// `BOOT_ID PID_NAMESPACE PID START`.
        case run(ProcessIdentity)
        /// `PID START`, written before runs were named by their identity.
        case olderFormat(pid: pid_t, startTime: UInt64)
    }

    /// The run the state file records; nil if there is none. Throws if the file cannot be
    /// trusted (`StateFolder.read`): a root supervisor must not signal what another user wrote.
    private static func recordedRun(_ stateFile: String) throws(LoaderError) -> Record? {
        guard let bytes = try StateFolder.read(stateFile) else { return nil }
        let fields = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isWhitespace)
        if fields.count == 4, let namespace = UInt64(fields[1]), let pid = pid_t(fields[2]), let start = UInt64(fields[3]) {
            return .run(ProcessIdentity(bootID: String(fields[0]), namespace: namespace, pid: pid, startTime: start))
        }
        if fields.count == 2, let pid = pid_t(fields[0]), let start = UInt64(fields[1]) { return .olderFormat(pid: pid, startTime: start) }
        return nil
    }

    /// SIGKILLs every process whose environment carries a marker of the run `run`.
    private static func killMarked(by run: ProcessIdentity) -> [pid_t] {
        let prefix = "\(WorkerMarker.variable)=\(WorkerMarker.prefix(of: run))"
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
