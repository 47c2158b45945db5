#if canImport(Glibc)
import Glibc
#endif
import LuminalSystem

/// What one photon file's workers may use. Every limit is off (nil) unless set, by the loader's
/// configuration or the manifest's `limits` (which wins, key by key).
///
/// `openFiles`, `coreBytes` and `cpuSeconds` are resource limits (setrlimit) and apply on every
/// host. `memoryBytes`, `cpuPercent` and `tasks` are cgroup v2 limits of the worker's own cgroup;
/// on a host without a writable cgroup v2 subtree with those controllers, loading says once that
/// they cannot be enforced and `status` shows it (`LimitReport`).
public struct ResourceLimits: Sendable, Hashable {
    /// Memory of the whole tree, resident and swap (cgroup `memory.max`); an out-of-memory kill is
    /// reported as `FailureClass.outOfMemory`.
    public var memoryBytes: Int64?
    /// CPU time of the whole tree, in percent of one CPU (cgroup `cpu.max`; 200 = two CPUs).
    public var cpuPercent: Int?
    /// Processes and threads of the whole tree (cgroup `pids.max`).
    public var tasks: Int?
    /// Open file descriptors of each process (RLIMIT_NOFILE).
    public var openFiles: Int?
    /// Largest core dump of each process (RLIMIT_CORE; 0 turns them off).
    public var coreBytes: Int64?
    /// CPU seconds of each process (RLIMIT_CPU): past it the process gets SIGXCPU, reported as
    /// `FailureClass.cpuTimeLimit`, and SIGKILL a second later if it ignores that.
    public var cpuSeconds: Int?

    /// No limits.
    public init(memoryBytes: Int64? = nil, cpuPercent: Int? = nil, tasks: Int? = nil, openFiles: Int? = nil,
                coreBytes: Int64? = nil, cpuSeconds: Int? = nil) {
        self.memoryBytes = memoryBytes
        self.cpuPercent = cpuPercent
        self.tasks = tasks
        self.openFiles = openFiles
        self.coreBytes = coreBytes
        self.cpuSeconds = cpuSeconds
    }

    /// These limits, with each one not set here taken from `base`.
    package func over(_ base: ResourceLimits) -> ResourceLimits {
        ResourceLimits(memoryBytes: memoryBytes ?? base.memoryBytes, cpuPercent: cpuPercent ?? base.cpuPercent,
                       tasks: tasks ?? base.tasks, openFiles: openFiles ?? base.openFiles,
                       coreBytes: coreBytes ?? base.coreBytes, cpuSeconds: cpuSeconds ?? base.cpuSeconds)
    }

    /// The cgroup limits set, by their manifest key, with what is written to which file.
    var cgroupLimits: [(key: String, file: String, value: String)] {
        var result: [(String, String, String)] = []
        if let memoryBytes { result.append(("memory", "memory.max", String(memoryBytes))) }
        if let cpuPercent { result.append(("cpu", "cpu.max", "\(cpuPercent * 1000) 100000")) }
        if let tasks { result.append(("tasks", "pids.max", String(tasks))) }
        return result
    }

    /// The resource limits set, as the child sets them: soft and hard alike, but for the CPU
    /// time (SIGXCPU at the limit, which the exit shows; SIGKILL a second later if it is ignored).
    var processLimits: [ProcessLimit] { keyedProcessLimits.map(\.limit) }

    /// `processLimits`, each with its manifest key.
    var keyedProcessLimits: [(key: String, limit: ProcessLimit)] {
        var result: [(String, ProcessLimit)] = []
        if let openFiles { result.append(("files", ProcessLimit(resource: Int32(RLIMIT_NOFILE.rawValue), soft: UInt64(openFiles), hard: UInt64(openFiles)))) }
        if let coreBytes { result.append(("core", ProcessLimit(resource: Int32(RLIMIT_CORE.rawValue), soft: UInt64(coreBytes), hard: UInt64(coreBytes)))) }
        if let cpuSeconds { result.append(("cpu_time", ProcessLimit(resource: Int32(RLIMIT_CPU.rawValue), soft: UInt64(cpuSeconds), hard: UInt64(cpuSeconds + 1)))) }
        return result
    }

    /// Whether no limit is set.
    package var isEmpty: Bool { self == ResourceLimits() }
}

/// Where one limit stands for a photon file's serving generation.
public struct LimitReport: Sendable, Hashable {
    /// The manifest key: memory, cpu, tasks, files, core, cpu_time.
    public let key: String
    /// The value, as set (bytes, percent, count or seconds).
    public let value: Int64
    /// Whether the host enforces it.
    public let enforced: Bool
    /// Why not, when it is not.
    public let reason: String?
}
