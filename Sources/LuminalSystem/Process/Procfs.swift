#if canImport(Glibc)
import Glibc
#endif

/// The fields of `/proc/PID/stat` the supervisor needs.
package struct ProcStat: Sendable, Equatable {
    package let pid: pid_t
    /// R, S, D, Z, T, …
    package let state: Character
    package let ppid: pid_t
    let pgid: pid_t
    let sid: pid_t
    /// Start time in clock ticks since boot: with the pid, it identifies a process uniquely.
    package let startTime: UInt64
}

/// Reads process facts from `/proc`.
package enum Procfs {
    /// Parses `/proc/PID/stat`; nil when the process is gone.
    package static func stat(_ pid: pid_t) -> ProcStat? {
        guard let text = readSmallFile("/proc/\(pid)/stat"),
              let close = text.lastIndex(of: ")") else { return nil }
        // The command name may contain spaces and parentheses: fields start after the last ')'.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let state = fields[0].first,
              let ppid = pid_t(fields[1]), let pgid = pid_t(fields[2]), let sid = pid_t(fields[3]),
              let start = UInt64(fields[19]) else { return nil }
        return ProcStat(pid: pid, state: state, ppid: ppid, pgid: pgid, sid: sid, startTime: start)
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
