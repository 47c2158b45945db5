#if canImport(Glibc)
import Glibc
#endif
import LuminalSystem

/// How one worker generation is held, limited and who it runs as (ARCHITECTURE.md §4.1).
///
/// Every worker is spawned by `luminal_spawn_contained`: the child is created in its cgroup
/// (clone3, CLONE_INTO_CGROUP) and applies the rest to itself before it execs the photon, so
/// nothing of the photon runs before they apply.
struct ContainmentPlan: Sendable {
    /// What the child applies to itself.
    let spawn: ContainedSpawn
    /// The worker's cgroup, made for it and empty until the child is created in it.
    let cgroup: Cgroup?
    /// What holds and limits it, for `status`.
    let report: ContainmentReport

    /// The plan for generation `generation` of `file` under `settings`. Throws when the
    /// identity cannot be used (unknown user or group, no privilege to switch, a worker that
    /// would run as root from files a user other than root could change: `RootTrust`).
    static func make(for file: PhotonFile, generation: Int, settings: WorkerSettings) throws(LoaderError) -> ContainmentPlan {
        let limits = file.limits.over(settings.limits)
        let identity = file.identity.over(settings.identity)
        let resolved = try Self.identity(for: file, settings: settings)
        var cgroup: Cgroup?
        var unheld: String?
        if settings.containment == .processTree {
            unheld = "the loader's containment is .processTree"
        } else {
            switch CgroupHost.shared.makeCgroup(for: file.path, generation: generation) {
            case .success(let made): cgroup = made
            case .failure(let why): unheld = why.description
            }
        }
        var reports: [LimitReport] = []
        for limit in limits.cgroupLimits {
            let value = Int64(limit.value.split(separator: " ").first ?? "") ?? 0
            let controller = limit.file.split(separator: ".").first.map(String.init) ?? ""
            var why: String?
            if let cgroup {
                if case .failure(let missing) = CgroupHost.shared.controller(controller) {
                    why = missing.description
                } else {
                    do throws(SystemError) {
                        try cgroup.write(limit.file, limit.value)
                    } catch {
                        why = "cannot write \(limit.file): \(error)"
                    }
                }
            } else {
                why = "no cgroup for this worker: \(unheld ?? "")"
            }
            let shown = limit.key == "cpu" ? value / 1000 : value
            reports.append(LimitReport(key: limit.key, value: shown, enforced: why == nil, reason: why))
        }
        for (key, value) in [("files", limits.openFiles.map(Int64.init)), ("core", limits.coreBytes), ("cpu_time", limits.cpuSeconds.map(Int64.init))] {
            if let value { reports.append(LimitReport(key: key, value: value, enforced: true, reason: nil)) }
        }
        let spawn = ContainedSpawn(cgroup: cgroup?.path, limits: limits.processLimits, umask: identity.umask,
                                   identity: resolved, noNewPrivileges: identity.noNewPrivileges)
        let holder = cgroup.map { ContainmentReport.Holder.cgroup(path: $0.path) } ?? .processTree(reason: unheld ?? "")
        let report = ContainmentReport(holder: holder, limits: reports, identity: resolved.map { "\($0.userName):\($0.gid)" })
        return ContainmentPlan(spawn: spawn, cgroup: cgroup, report: report)
    }

    /// Who a worker of `file` runs as under `settings`, checked. Throws when the identity cannot
    /// be used (unknown user or group, no privilege to switch) or the worker would run as root
    /// from files a user other than root could change (`RootTrust`).
    static func identity(for file: PhotonFile, settings: WorkerSettings) throws(LoaderError) -> ResolvedIdentity? {
        let identity = file.identity.over(settings.identity)
        let resolved: ResolvedIdentity?
        do {
            resolved = try ResolvedIdentity.resolve(identity)
        } catch {
            let source = file.identity.user != nil || file.identity.group != nil
                ? "manifest \(Paths.join(file.path, Manifest.fileName)): key '\(file.identity.user != nil ? "user" : "group")'"
                : "the loader's identity"
            throw LoaderError(.spawnFailed, "photon file \(file.path) cannot be started: \(source): \(error.message)", file: file.path)
        }
        if (resolved?.uid ?? geteuid()) == 0, let changer = RootTrust.untrustedPath(of: file) {
            let why = file.identity.user.map { "its manifest's 'user' is \($0)" }
                ?? identity.user.map { "the loader's identity's user is \($0)" } ?? "the supervisor runs as root and no 'user' is set"
            throw LoaderError(.spawnFailed, "photon file \(file.path) would run as root (\(why)), but \(changer); a user other than root could change what it runs. Make it belong to root and writable by root only, or give it a 'user' that is not root", file: file.path)
        }
        return resolved
    }
}
