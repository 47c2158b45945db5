#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The cgroup v2 subtree this supervisor may use, found once per process: the supervisor's own
/// cgroup (from `/proc/self/cgroup`) under the cgroup2 mount (from `/proc/self/mountinfo`), if
/// it can make a folder there. That is root on a cgroup v2 host, a systemd unit with
/// `Delegate=yes`, or a container that owns its cgroup.
///
/// Workers' cgroups live in `luminal-NS-PID-START` below it (the run's `ProcessIdentity`; made
/// when the first is needed, removed when the process exits), one per generation: a photon
/// loaded while no other worker runs does not make the folder again. A `luminal-NS-PID-START`
/// left by a run of this pid namespace that provably no longer runs (no process with that pid and
/// start time) is emptied (`cgroup.kill`) and removed when this one first makes its own; so is a
/// `luminal-PID` of an older version once no process has that pid at all, judged only from the
/// initial pid namespace (where such a pid was counted, unless that run was in a container).
/// Folders of runs in other pid namespaces are never touched.
package final class CgroupHost: Sendable {
    /// The host of this process.
    package static let shared = CgroupHost()

    /// Where cgroups can be made, or why not.
    let availability: Result<String, ContainmentUnavailable>
    /// Where the cgroup2 file system is mounted, if it is.
    let mount: String?
    /// The controllers that can limit workers (of memory, cpu, pids), or why each cannot.
    let controllers: [String: Result<Void, ContainmentUnavailable>]
    /// The run's folder once made, the cgroups it holds, the last serial number given, and
    /// whether the folders of runs that are gone were looked for (once a process).
    private let state = Mutex<(base: String?, live: Set<String>, serial: Int, swept: Bool)>((nil, [], 0, false))

    private init() {
        mount = Self.cgroup2Mount()
        let (availability, controllers) = Self.discover(mount: mount)
        self.availability = availability
        self.controllers = controllers
    }

    /// Makes the cgroup for a new worker generation of `file`; nil when this host has none to give.
    package func makeCgroup(for file: String, generation: Int) -> Result<Cgroup, ContainmentUnavailable> {
        let own: String
        switch availability {
        case .failure(let why): return .failure(why)
        case .success(let path): own = path
        }
        return state.withLock { state -> Result<Cgroup, ContainmentUnavailable> in
            if state.base == nil {
                let base = Paths.join(own, "luminal-\(ProcessIdentity.current.tag)")
                if !state.swept {
                    Self.removeStale(in: own)
                    state.swept = true
                }
                guard mkdir(base, 0o755) == 0 || errno == EEXIST else {
                    return .failure(ContainmentUnavailable("cannot make \(base): \(String(cString: strerror(errno)))"))
                }
                atexit { CgroupHost.shared.removeRunFolder() }
                let enabled = controllers.filter { (try? $0.value.get()) != nil }.keys.sorted()
                if !enabled.isEmpty {
                    _ = try? Cgroup(path: base).write("cgroup.subtree_control", enabled.map { "+\($0)" }.joined(separator: " "))
                }
                state.base = base
            }
            state.serial += 1
            let name = "\(Self.safeName(Paths.name(file))).\(generation).\(state.serial)"
            do {
                let made = try Cgroup.create(Paths.join(state.base!, name))
                state.live.insert(made.path)
                return .success(made)
            } catch {
                return .failure(ContainmentUnavailable("cannot make a cgroup for \(file): \(error) (cgroup.max.descendants reached, or the subtree is read-only)"))
            }
        }
    }

    /// Removes a worker's cgroup once it is empty.
    package func release(_ cgroup: Cgroup) {
        state.withLock { state in
            guard state.live.contains(cgroup.path), cgroup.remove() else { return }
            state.live.remove(cgroup.path)
        }
    }

    /// Removes the run's folder, at the process's exit: if a worker's cgroup is still in it
    /// (the host exits without unloading), the folder stays for the next run's sweep.
    private func removeRunFolder() {
        state.withLock { state in
            if let base = state.base, rmdir(base) == 0 { state.base = nil }
        }
    }

    /// Whether the controller `name` can limit workers here, and why not.
    package func controller(_ name: String) -> Result<Void, ContainmentUnavailable> {
        controllers[name] ?? .failure(ContainmentUnavailable("no controller \(name)"))
    }

    private static func safeName(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }.prefix(64))
    }

    /// Empties and removes the folders of supervisor runs that are provably gone.
    private static func removeStale(in own: String) {
        for name in Paths.entries(of: own) ?? [] where name.hasPrefix("luminal-") {
            let tag = name.dropFirst("luminal-".count)
            if let run = ProcessIdentity(tag: tag) {
                guard run != .current, run.isJudgeable, !run.isRunning else { continue }
            } else {
                // An older version's `luminal-PID`: its run is gone only if no process has that pid.
                guard ProcessIdentity.currentNamespace == ProcessIdentity.initialNamespace,
                      let pid = pid_t(tag), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            }
            let stale = Cgroup(path: Paths.join(own, name))
            for child in Paths.entries(of: stale.path) ?? [] where Paths.kind(Paths.join(stale.path, child)) == .directory {
                let leftover = Cgroup(path: Paths.join(stale.path, child))
                _ = leftover.killAll()
                _ = leftover.remove()
            }
            _ = stale.remove()
        }
    }

    /// The supervisor's cgroup v2 folder if it can make folders in it, and the controllers.
    private static func discover(mount: String?) -> (Result<String, ContainmentUnavailable>, [String: Result<Void, ContainmentUnavailable>]) {
        let names = ["memory", "cpu", "pids"]
        func none(_ why: String) -> (Result<String, ContainmentUnavailable>, [String: Result<Void, ContainmentUnavailable>]) {
            let reason = ContainmentUnavailable(why)
            return (.failure(reason), Dictionary(uniqueKeysWithValues: names.map { ($0, .failure(reason)) }))
        }
        guard let mount else { return none("no cgroup v2 file system is mounted") }
        guard let line = Procfs.cgroupV2Path() else {
            return none("this process is in no cgroup v2 (/proc/self/cgroup has no 0:: line)")
        }
        let relative = line.trimmingSlashes
        let own = relative.isEmpty ? mount : Paths.join(mount, relative)
        let probe = Paths.join(own, "luminal-probe-\(getpid())")
        guard mkdir(probe, 0o755) == 0 else {
            return none("the supervisor's cgroup \(own) is not writable (\(String(cString: strerror(errno)))): run it as root on a cgroup v2 host, in a systemd unit with Delegate=yes, or in a container that owns its cgroup")
        }
        rmdir(probe)
        let cgroup = Cgroup(path: own)
        let available = Set((cgroup.read("cgroup.controllers") ?? "").split(whereSeparator: \.isWhitespace).map(String.init))
        var controllers: [String: Result<Void, ContainmentUnavailable>] = [:]
        for name in names {
            if !available.contains(name) {
                controllers[name] = .failure(ContainmentUnavailable("the cgroup v2 controller '\(name)' is not available in \(own) (cgroup.controllers: \(available.isEmpty ? "none" : available.sorted().joined(separator: " "))); on a hybrid host it is bound to cgroup v1"))
            } else if (cgroup.read("cgroup.subtree_control") ?? "").split(separator: " ").contains(Substring(name)) {
                controllers[name] = .success(())
            } else {
                do throws(SystemError) {
                    try cgroup.write("cgroup.subtree_control", "+\(name)")
                    controllers[name] = .success(())
                } catch {
                    controllers[name] = .failure(ContainmentUnavailable("the cgroup v2 controller '\(name)' cannot be enabled below \(own) (\(error)): a cgroup that holds processes cannot hand controllers to its children; run the supervisor in a leaf of its delegated subtree"))
                }
            }
        }
        return (.success(own), controllers)
    }

    /// Where the cgroup2 file system is mounted, from `/proc/self/mountinfo`.
    private static func cgroup2Mount() -> String? {
        let info = (try? Paths.read("/proc/self/mountinfo", limit: 4 << 20)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        for line in info.split(separator: "\n") {
            // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS
            let halves = line.split(separator: " - ", maxSplits: 1)
            guard halves.count == 2, halves[1].hasPrefix("cgroup2 ") else { continue }
            let fields = halves[0].split(separator: " ")
            if fields.count > 4 { return String(fields[4]) }
        }
        return nil
    }
}

/// Why this host cannot contain or limit workers with cgroups.
public struct ContainmentUnavailable: Error, Sendable, Hashable, CustomStringConvertible {
    /// The reason, for logs and `status`.
    public let description: String
    package init(_ description: String) { self.description = description }
}

private extension String {
    var trimmingSlashes: String {
        var text = Substring(self)
        while text.hasPrefix("/") { text = text.dropFirst() }
        while text.hasSuffix("/") { text = text.dropLast() }
        return String(text)
    }
}
