#if canImport(Glibc)
import Glibc
#endif

/// One cgroup v2 folder that holds one worker generation and everything it starts.
///
/// The worker is created in it (clone3 with CLONE_INTO_CGROUP), and children inherit it,
/// so no descendant can leave by unsetting a variable, calling `setsid` or double-forking: only a
/// process with write access to another cgroup's `cgroup.procs` can move out.
package struct Cgroup: Sendable, Hashable {
    /// The folder, e.g. `/sys/fs/cgroup/unified/luminal-812/greeter.3`.
    package let path: String

    /// The path as `/proc/PID/cgroup` shows it: relative to the cgroup2 mount, from `/`.
    package var relativePath: String {
        guard let mount = CgroupHost.shared.mount, path.hasPrefix(mount) else { return path }
        let rest = String(path.dropFirst(mount.count))
        return rest.hasPrefix("/") ? rest : "/" + rest
    }

    /// Makes the folder; throws if it exists or cannot be made.
    package static func create(_ path: String) throws(SystemError) -> Cgroup {
        guard mkdir(path, 0o755) == 0 else { throw SystemError(errno: errno, "mkdir \(path)") }
        return Cgroup(path: path)
    }

    /// Writes `value` to the control file `name`, opened relative to the folder without following a symlink.
    package func write(_ name: String, _ value: String) throws(SystemError) {
        let fd = try OwnedFolder.kernel(path).openExisting(name, O_WRONLY)
        defer { closeQuietly(fd) }
        let bytes = Array(value.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw SystemError(errno: errno, "write \(value) to \(Paths.join(path, name))") }
    }

    /// The text of the control file `name`, nil if it cannot be read.
    package func read(_ name: String) -> String? {
        (try? Paths.read(Paths.join(path, name), limit: 64 * 1024)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The `key value` lines of a flat-keyed control file (`cgroup.events`, `memory.events`, `cpu.stat`).
    func keyed(_ name: String) -> [String: Int64] {
        var result: [String: Int64] = [:]
        for line in (read(name) ?? "").split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = Int64(parts[1]) { result[String(parts[0])] = value }
        }
        return result
    }

    /// Whether any process is left in it or below it.
    var isPopulated: Bool { keyed("cgroup.events")["populated"] != 0 }

    /// The pids in it and in the cgroups a member made below it.
    package func processes() -> [pid_t] {
        var result: [pid_t] = []
        var folders = [path]
        while let folder = folders.popLast() {
            let procs = (try? Paths.read(Paths.join(folder, "cgroup.procs"), limit: 4 << 20)) ?? []
            result += String(decoding: procs, as: UTF8.self).split(separator: "\n").compactMap { pid_t($0) }
            for name in Paths.entries(of: folder) ?? [] where Paths.kind(Paths.join(folder, name)) == .directory {
                folders.append(Paths.join(folder, name))
            }
        }
        return result
    }

    /// SIGKILLs every process in it and below it at once (`cgroup.kill`): a member forking
    /// meanwhile cannot outrun it. False if the kernel has no `cgroup.kill` (before Linux 5.14).
    func killAll() -> Bool {
        (try? write("cgroup.kill", "1")) != nil
    }

    /// CPU time used by everything that ran in it, from `cpu.stat` (always present in cgroup v2).
    package var cpuSeconds: Double? {
        keyed("cpu.stat")["usage_usec"].map { Double($0) / 1_000_000 }
    }

    /// How many processes the kernel's OOM killer has killed in it (`memory.events`); 0 without
    /// the memory controller.
    package var oomKills: Int64 { keyed("memory.events")["oom_kill"] ?? 0 }

    /// Removes it and the folders a member made below it, once they are empty; false if one is
    /// still populated.
    @discardableResult
    package func remove() -> Bool {
        for name in Paths.entries(of: path) ?? [] where Paths.kind(Paths.join(path, name)) == .directory {
            _ = Cgroup(path: Paths.join(path, name)).remove()
        }
        return rmdir(path) == 0 || errno == ENOENT
    }
}
