#if canImport(Glibc)
import Glibc
#endif

/// What a set of processes uses: resident memory, CPU time and open descriptors.
package struct ProcessUsage: Sendable, Equatable {
    /// Processes counted.
    package var processes = 0
    /// Resident set size, in bytes.
    package var residentBytes: UInt64 = 0
    /// User and system CPU time, in seconds.
    package var cpuSeconds: Double = 0
    /// Open file descriptors.
    package var openDescriptors = 0

    package mutating func add(_ other: ProcessUsage) {
        processes += other.processes
        residentBytes += other.residentBytes
        cpuSeconds += other.cpuSeconds
        openDescriptors += other.openDescriptors
    }

    package init(processes: Int = 0, residentBytes: UInt64 = 0, cpuSeconds: Double = 0, openDescriptors: Int = 0) {
        self.processes = processes
        self.residentBytes = residentBytes
        self.cpuSeconds = cpuSeconds
        self.openDescriptors = openDescriptors
    }
}

/// One pass over `/proc` that tells what each worker's process tree uses.
///
/// Every process's `stat` is read once; a tree is the worker and its descendants by parent pid,
/// plus the supervisor's children in the worker's process group (re-parented daemons that kept
/// it). Descriptors are counted only for the members, by the size `stat` reports for
/// `/proc/PID/fd` (Linux 6.2 and later), else by listing it. The cost follows the number of
/// processes on the machine, once per reading, not per worker.
package struct ProcessTable: Sendable {
    private let entries: [pid_t: ProcStat]
    private let children: [pid_t: [pid_t]]
    /// The supervisor's own children by process group.
    private let adoptedByGroup: [pid_t: [pid_t]]
    private static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
    private static let pageSize = UInt64(sysconf(Int32(_SC_PAGESIZE)))

    /// Reads every process now.
    package init() {
        var entries: [pid_t: ProcStat] = [:]
        var children: [pid_t: [pid_t]] = [:]
        if let dir = opendir("/proc") {
            let proc = dirfd(dir)
            var pids: [pid_t] = []
            while let entry = readdir(dir) {
                if let pid = Self.pid(entry) { pids.append(pid) }
            }
            for pid in pids {
                guard let stat = ProcStat.read(pid, in: proc) else { continue }
                entries[pid] = stat
                children[stat.ppid, default: []].append(pid)
            }
            closedir(dir)
        }
        self.entries = entries
        self.children = children
        adoptedByGroup = Dictionary(grouping: children[getpid()] ?? []) { entries[$0]?.pgid ?? 0 }
    }

    /// The pid a `/proc` entry names, if it is a process.
    private static func pid(_ entry: UnsafeMutablePointer<dirent>) -> pid_t? {
        let offset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        var name = UnsafeRawPointer(entry).advanced(by: offset).assumingMemoryBound(to: UInt8.self)
        var pid: pid_t = 0
        guard name.pointee != 0 else { return nil }
        while name.pointee != 0 {
            guard name.pointee >= UInt8(ascii: "0"), name.pointee <= UInt8(ascii: "9") else { return nil }
            pid = pid &* 10 &+ pid_t(name.pointee - UInt8(ascii: "0"))
            name += 1
        }
        return pid
    }

    /// What the tree rooted at `root` uses; empty when it is gone.
    package func usage(ofTree root: pid_t) -> ProcessUsage {
        var usage = ProcessUsage()
        var seen: Set<pid_t> = []
        let me = getpid()
        var pending = [root] + (adoptedByGroup[root] ?? [])
        while let pid = pending.popLast() {
            guard pid != me, seen.insert(pid).inserted, let entry = entries[pid] else { continue }
            usage.add(Self.usage(of: pid, entry))
            pending += children[pid] ?? []
        }
        return usage
    }

    /// What the processes `pids` use together, read now.
    package static func usage(of pids: [pid_t]) -> ProcessUsage {
        var total = ProcessUsage()
        for pid in pids {
            if let entry = ProcStat.read(pid) { total.add(usage(of: pid, entry)) }
        }
        return total
    }

    /// What this process uses.
    package static func ownUsage() -> ProcessUsage {
        let me = getpid()
        return ProcStat.read(me).map { usage(of: me, $0) } ?? ProcessUsage()
    }

    private static func usage(of pid: pid_t, _ entry: ProcStat) -> ProcessUsage {
        ProcessUsage(processes: 1, residentBytes: entry.residentPages * pageSize,
                     cpuSeconds: Double(entry.cpuTicks) / ticksPerSecond, openDescriptors: openDescriptors(of: pid))
    }

    private static func openDescriptors(of pid: pid_t) -> Int {
        let path = "/proc/\(pid)/fd"
        var info = stat()
        if stat(path, &info) == 0, info.st_size > 0 { return Int(info.st_size) }
        guard let dir = opendir(path) else { return 0 }
        defer { closedir(dir) }
        var count = 0
        while readdir(dir) != nil { count += 1 }
        return max(0, count - 2) // "." and ".."
    }
}
