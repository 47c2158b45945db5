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
    private struct Entry: Sendable {
        package let ppid: pid_t
        let pgid: pid_t
        package let cpuTicks: UInt64
        let residentPages: UInt64
    }

    private let entries: [pid_t: Entry]
    private let children: [pid_t: [pid_t]]
    /// The supervisor's own children by process group.
    private let adoptedByGroup: [pid_t: [pid_t]]
    private static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
    private static let pageSize = UInt64(sysconf(Int32(_SC_PAGESIZE)))

    /// Reads every process now.
    package init() {
        var entries: [pid_t: Entry] = [:]
        var children: [pid_t: [pid_t]] = [:]
        if let dir = opendir("/proc") {
            let proc = dirfd(dir)
            var pids: [pid_t] = []
            while let entry = readdir(dir) {
                if let pid = Self.pid(entry) { pids.append(pid) }
            }
            // The reads are the kernel's work, one process at a time: spread over the cores.
            for (pid, stat) in zip(pids, parallelMap(pids) { Self.readStat($0, in: proc) }) {
                guard let stat else { continue }
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
            if let entry = readStat(pid, in: AT_FDCWD) { total.add(usage(of: pid, entry)) }
        }
        return total
    }

    /// What this process uses.
    package static func ownUsage() -> ProcessUsage {
        let me = getpid()
        return readStat(me, in: AT_FDCWD).map { usage(of: me, $0) } ?? ProcessUsage()
    }

    private static func usage(of pid: pid_t, _ entry: Entry) -> ProcessUsage {
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

    /// Parent, group, CPU ticks and resident pages from `/proc/PID/stat`; nil when it is gone.
    private static func readStat(_ pid: pid_t, in proc: Int32) -> Entry? {
        let fd = proc == AT_FDCWD ? open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC) : openat(proc, "\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1024) { buffer -> Entry? in
            let count = read(fd, buffer.baseAddress, buffer.count)
            guard count > 0 else { return nil }
            let bytes = UnsafeBufferPointer(buffer)
            // The command name may hold spaces and parentheses: the fields start after the last ')'.
            guard let close = bytes[..<count].lastIndex(of: UInt8(ascii: ")")) else { return nil }
            var fields: [UInt64] = []
            var value: UInt64 = 0, inNumber = false
            // Fields 4 (ppid) to 24 (rss); field 3, the state letter, is not a number.
            for byte in bytes[(close + 1)..<count] {
                if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                    value = value &* 10 &+ UInt64(byte - UInt8(ascii: "0"))
                    inNumber = true
                } else if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") {
                    if inNumber { fields.append(value) }
                    value = 0
                    inNumber = false
                    if fields.count == 21 { break }
                } else if byte == UInt8(ascii: "-") {
                    continue
                } else {
                    inNumber = false
                }
            }
            // fields[0] is ppid (field 4), [10] utime (14), [11] stime (15), [20] rss (24).
            guard fields.count == 21 else { return nil }
            return Entry(ppid: pid_t(truncatingIfNeeded: fields[0]), pgid: pid_t(truncatingIfNeeded: fields[1]),
                         cpuTicks: fields[10] + fields[11], residentPages: fields[20])
        }
    }
}
