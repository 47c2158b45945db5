#if canImport(Glibc)
import Glibc
#endif
import LuminalSystem

extension PhotonFile {
    /// Throws when a worker of this file could not be started under `settings`, as its spawn
    /// would find: a descriptor limit that leaves it none of its own, a limit the child may not
    /// raise, an identity that cannot be used, root from files others can change. Checked before
    /// the file's sockets are bound, and before a restart stops what runs.
    package func checkStartable(settings: WorkerSettings) throws(LoaderError) {
        try checkLimits(over: settings.limits)
        _ = try ContainmentPlan.identity(for: self, settings: settings)
    }

    /// The limits' part of `checkStartable` (the manifest's over `defaults`), which reads no
    /// user database and walks no folder.
    package func checkLimits(over defaults: ResourceLimits) throws(LoaderError) {
        try checkDescriptorLimit(over: defaults)
        try checkRaisable(self.limits.over(defaults))
    }

    /// Throws when the open-descriptor limit (`files`, the manifest's over `defaults`) is not
    /// above the descriptors a worker of this file is handed: it could open none of its own, not
    /// even its libraries, and would die at once with a loader's error that does not say why.
    private func checkDescriptorLimit(over defaults: ResourceLimits) throws(LoaderError) {
        let handed = Int(SpawnRequest.firstSocketFD(protocolPipes: self.plain == nil)) + self.sockets.count
        guard let files = self.limits.over(defaults).openFiles, files <= handed else { return }
        let source = self.limits.openFiles != nil ? "its manifest's 'limits.files'" : "the loader's limits (files)"
        let held = self.sockets.isEmpty ? "" : ", \(self.sockets.count) held socket\(self.sockets.count == 1 ? "" : "s")"
        throw LoaderError(.spawnFailed, "photon file \(self.path) cannot be started: \(source) allows \(files) open descriptor\(files == 1 ? "" : "s"), and it is handed \(handed) (stdin, stdout, stderr\(self.plain == nil ? ", the protocol's fds 3 and 4" : "")\(held)): it could open none of its own. Allow more than \(handed), with room for what the program opens", file: self.path)
    }

    /// Throws when a resource limit's hard value is above this process's own and this process
    /// may not raise it (no `CAP_SYS_RESOURCE`, as in a container by default, root or not): the
    /// child, which sets it before it drops any privilege, would fail with a bare EPERM.
    private func checkRaisable(_ limits: ResourceLimits) throws(LoaderError) {
        guard !Capabilities.holds(Capabilities.sysResource) else { return }
        for (key, limit) in limits.keyedProcessLimits {
            var own = rlimit()
            guard getrlimit(__rlimit_resource_t(UInt32(limit.resource)), &own) == 0, own.rlim_max != rlim_t.max, limit.hard > own.rlim_max else { continue }
            let source = self.limits.keyedProcessLimits.contains { $0.key == key } ? "its manifest's 'limits.\(key)'" : "the loader's limits (\(key))"
            // The CPU time's hard limit is a second above the value asked (SIGKILL after SIGXCPU).
            let most = UInt64(own.rlim_max) - (limit.hard - limit.soft)
            let (directive, flag) = key == "files" ? ("LimitNOFILE", "n") : key == "core" ? ("LimitCORE", "c") : ("LimitCPU", "t")
            throw LoaderError(.spawnFailed, "photon file \(self.path) cannot be started: \(source) asks \(limit.soft), a hard limit of \(limit.hard), above the supervisor's own \(own.rlim_max), which it may not raise (it lacks CAP_SYS_RESOURCE, as in a container by default): ask at most \(most), or raise the supervisor's own hard limit (\(directive)= in its unit, or ulimit -H\(flag) before it starts)", file: self.path)
        }
    }
}
