#if canImport(Glibc)
import Glibc
#endif

/// The fields of `/proc/PID/stat` the supervisor needs.
package struct ProcStat: Sendable, Equatable {
    package let pid: pid_t
    /// R, S, D, Z, T, …
    package let state: Character
    package let ppid: pid_t
    package let pgid: pid_t
    let sid: pid_t
    /// User and system CPU time, in clock ticks.
    package let cpuTicks: UInt64
    /// Start time in clock ticks since boot: with the pid, it identifies a process uniquely.
    package let startTime: UInt64
    /// Resident set size, in pages.
    package let residentPages: UInt64

    /// Parses the text of `/proc/PID/stat`. The command name may hold spaces and parentheses: the
    /// fields start after the last ')'. nil when the text is cut short.
    package init?(pid: pid_t, _ text: UnsafeBufferPointer<UInt8>) {
        guard let close = text.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        // fields[0] is field 3 of proc(5) (the state), [1] ppid, [2] pgrp, [3] session,
        // [11] utime, [12] stime, [19] starttime, [21] rss.
        var fields: [UInt64] = []
        fields.reserveCapacity(22)
        var state: UInt8 = 0
        var value: UInt64 = 0, inField = false
        for byte in text[(close + 1)...] {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") {
                if inField { fields.append(value) }
                value = 0
                inField = false
                if fields.count == 22 { break }
            } else if fields.isEmpty && !inField {
                state = byte
                inField = true
            } else {
                // A negative field (priority, nice) reads as its magnitude: none of those is used.
                if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") { value = value &* 10 &+ UInt64(byte - UInt8(ascii: "0")) }
                inField = true
            }
        }
        guard fields.count == 22, state != 0 else { return nil }
        self.pid = pid
        self.state = Character(Unicode.Scalar(state))
        ppid = pid_t(truncatingIfNeeded: fields[1])
        pgid = pid_t(truncatingIfNeeded: fields[2])
        sid = pid_t(truncatingIfNeeded: fields[3])
        cpuTicks = fields[11] &+ fields[12]
        startTime = fields[19]
        residentPages = fields[21]
    }

    /// Reads `/proc/PID/stat`, relative to the `/proc` folder's descriptor `proc` (or
    /// `AT_FDCWD`); nil when the process is gone.
    package static func read(_ pid: pid_t, in proc: Int32 = AT_FDCWD) -> ProcStat? {
        let fd = proc == AT_FDCWD ? open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC) : openat(proc, "\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1024) { buffer -> ProcStat? in
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            guard count > 0 else { return nil }
            return ProcStat(pid: pid, UnsafeBufferPointer(rebasing: buffer[..<count]))
        }
    }
}

/// Reads process facts from `/proc`.
package enum Procfs {
    /// Reads `/proc/PID/stat`; nil when the process is gone.
    package static func stat(_ pid: pid_t) -> ProcStat? {
        ProcStat.read(pid)
    }

    /// The cgroup v2 folder of `pid` (the calling process when nil), relative to the cgroup2
    /// mount: the `0::` line of `/proc/PID/cgroup`. nil when it is in none, or gone.
    package static func cgroupV2Path(of pid: pid_t? = nil) -> String? {
        guard let membership = readSmallFile("/proc/\(pid.map(String.init) ?? "self")/cgroup", limit: 4096) else { return nil }
        return membership.split(separator: "\n").first { $0.hasPrefix("0::") }.map { String($0.dropFirst(3)) }
    }

    /// The time since boot in clock ticks, rounded down: the clock of `ProcStat.startTime`, so a
    /// process started after this call has a start time at least this.
    static func ticksSinceBoot() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_BOOTTIME, &now)
        let ticksPerSecond = UInt64(sysconf(Int32(_SC_CLK_TCK)))
        return UInt64(now.tv_sec) * ticksPerSecond + UInt64(now.tv_nsec) * ticksPerSecond / 1_000_000_000
    }

    /// Every process visible in `/proc`.
    package static func allProcesses() -> [ProcStat] {
        (Paths.entries(of: "/proc") ?? []).compactMap { pid_t($0).flatMap(stat) }
    }

    /// The children of `pid`, from `/proc/PID/task/*/children`.
    static func childPIDs(of pid: pid_t) -> [pid_t] {
        (Paths.entries(of: "/proc/\(pid)/task") ?? []).flatMap { task in
            (readSmallFile("/proc/\(pid)/task/\(task)/children") ?? "").split(separator: " ").compactMap { pid_t($0) }
        }
    }

    /// True when the environment of `pid` holds the exact entry `entry` (e.g. `LUMINAL_WORKER=12.3`).
    package static func environment(of pid: pid_t, contains entry: String) -> Bool {
        environment(of: pid).contains { $0 == entry }
    }

    /// True when the environment of `pid` holds an entry starting with `prefix`.
    package static func environment(of pid: pid_t, hasPrefix prefix: String) -> Bool {
        environment(of: pid).contains { $0.hasPrefix(prefix) }
    }

    private static func environment(of pid: pid_t) -> [Substring] {
        (readSmallFile("/proc/\(pid)/environ", limit: 1 << 20) ?? "").split(separator: "\0")
    }

    private static func readSmallFile(_ path: String, limit: Int = 64 * 1024) -> String? {
        (try? Paths.read(path, limit: limit)).map { String(decoding: $0, as: UTF8.self) }
    }
}
