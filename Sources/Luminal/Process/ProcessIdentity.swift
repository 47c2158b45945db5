#if canImport(Glibc)
import Glibc
#endif

/// What names one process for as long as the machine runs, whatever pids are reused: the boot,
/// the pid, and the start time (clock ticks since boot, field 22 of `/proc/PID/stat`).
///
/// A supervisor names its run by its own identity: in the state file, in every worker's marker
/// (`LUMINAL_WORKER=<pid>-<start>.<serial>`) and in its cgroup folder (`luminal-<pid>-<start>`),
/// so that no other run, even one that got the same pid, can be taken for it.
struct ProcessIdentity: Sendable, Hashable {
    /// `/proc/sys/kernel/random/boot_id`: a new one at every boot.
    let bootID: String
    let pid: pid_t
    let startTime: UInt64

    /// This process.
    static let current = ProcessIdentity(bootID: currentBoot, pid: getpid(), startTime: Procfs.stat(getpid())?.startTime ?? 0)

    /// The boot this process runs in.
    static let currentBoot = ((try? Paths.read("/proc/sys/kernel/random/boot_id", limit: 64)).map { String(decoding: $0, as: UTF8.self) } ?? "")
        .filter { !$0.isWhitespace }

    /// The run's name in markers and cgroup folders: "<pid>-<start time>".
    var tag: String { "\(pid)-\(startTime)" }

    /// Whether this very process still runs: same boot, and a process with this pid that started
    /// at this time (a zombie counts: it is not gone until reaped).
    var isRunning: Bool {
        bootID == Self.currentBoot && Procfs.stat(pid)?.startTime == startTime
    }

    /// The identity named by `tag` ("<pid>-<start time>") in this boot, nil if it is not one.
    init?(tag: Substring) {
        let parts = tag.split(separator: "-")
        guard parts.count == 2, let pid = pid_t(parts[0]), pid > 0, let start = UInt64(parts[1]) else { return nil }
        self.init(bootID: Self.currentBoot, pid: pid, startTime: start)
    }

    init(bootID: String, pid: pid_t, startTime: UInt64) {
        self.bootID = bootID
        self.pid = pid
        self.startTime = startTime
    }
}
