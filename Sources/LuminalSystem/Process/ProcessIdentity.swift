#if canImport(Glibc)
import Glibc
#endif

/// What names one process for as long as the machine runs, whatever pids are reused: the boot,
/// the pid namespace, the pid in it, and the start time (clock ticks since boot, field 22 of
/// `/proc/PID/stat`).
///
/// A supervisor names its run by its own identity: in the state file, in every worker's marker
/// (`LUMINAL_WORKER=<namespace>-<pid>-<start>.<serial>`) and in its cgroup folder
/// (`luminal-<namespace>-<pid>-<start>`), so that no other run, even one that got the same pid,
/// can be taken for it. A pid means something only in its own namespace (a supervisor in a
/// container without a cgroup namespace of its own sees the folders of supervisors outside it, and
/// they see its folder): a run of another pid namespace is never judged gone.
package struct ProcessIdentity: Sendable, Hashable {
    /// `/proc/sys/kernel/random/boot_id`: a new one at every boot.
    package let bootID: String
    /// The inode of the pid namespace the pid is counted in (`/proc/self/ns/pid`).
    package let namespace: UInt64
    package let pid: pid_t
    package let startTime: UInt64

    /// This process.
    package static let current = ProcessIdentity(bootID: currentBoot, namespace: currentNamespace, pid: getpid(),
                                         startTime: Procfs.stat(getpid())?.startTime ?? 0)

    /// The boot this process runs in.
    package static let currentBoot = ((try? Paths.read("/proc/sys/kernel/random/boot_id", limit: 64)).map { String(decoding: $0, as: UTF8.self) } ?? "")
        .filter { !$0.isWhitespace }

    /// The pid namespace this process runs in: the inode `/proc/self/ns/pid` names ("pid:[N]"); 0 if unknown.
    static let currentNamespace: UInt64 = {
        var info = stat()
        return stat("/proc/self/ns/pid", &info) == 0 ? UInt64(info.st_ino) : 0
    }()

    /// The initial pid namespace's inode (the kernel's `PROC_PID_INIT_INO`).
    static let initialNamespace: UInt64 = 0xEFFF_FFFC

    /// The run's name in markers and cgroup folders: "<namespace>-<pid>-<start time>".
    package var tag: String { "\(namespace)-\(pid)-\(startTime)" }

    /// Whether this process's pid can be judged from here: same boot and same pid namespace.
    package var isJudgeable: Bool {
        bootID == Self.currentBoot && namespace == Self.currentNamespace && namespace != 0
    }

    /// Whether this very process still runs: judgeable, and a process with this pid that started
    /// at this time (a zombie counts: it is not gone until reaped). A process of another boot is
    /// gone; one of another pid namespace is taken to be running, as nothing here can prove otherwise.
    package var isRunning: Bool {
        guard bootID == Self.currentBoot else { return false }
        guard isJudgeable else { return true }
        return Procfs.stat(pid)?.startTime == startTime
    }

    /// The identity named by `tag` ("<namespace>-<pid>-<start time>") in this boot, nil if it is not one.
    package init?(tag: Substring) {
        let parts = tag.split(separator: "-")
        guard parts.count == 3, let namespace = UInt64(parts[0]), let pid = pid_t(parts[1]), pid > 0,
              let start = UInt64(parts[2]) else { return nil }
        self.init(bootID: Self.currentBoot, namespace: namespace, pid: pid, startTime: start)
    }

    package init(bootID: String, namespace: UInt64, pid: pid_t, startTime: UInt64) {
        self.bootID = bootID
        self.namespace = namespace
        self.pid = pid
        self.startTime = startTime
    }
}
