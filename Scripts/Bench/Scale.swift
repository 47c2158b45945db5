#if canImport(Glibc)
import Glibc
#endif
import Luminal

/// `count` photon files in a watched folder: the time to load them all (beside spawning the same
/// `count` commands bare and reaping them), the supervisor's memory before, right after and at
/// the end of the idle window (`Memory`), and its CPU time over `seconds` of idle watching, and
/// the time to unload them all, for each of `variants`.
enum Scale {
    /// How the folder is watched: the backend, and whether workers get the default heartbeat.
    enum Variant: String, CaseIterable {
        /// inotify, default configuration (a heartbeat ping every 30 s per worker).
        case inotify
        /// inotify, heartbeats off: the watcher alone.
        case inotifyNoHeartbeat = "inotify-no-heartbeat"
        /// Polling every second, default configuration.
        case polling

        var backend: WatchBackend { self == .polling ? .polling(interval: .seconds(1)) : .inotify }

        var configuration: LoaderConfiguration {
            var configuration = LoaderConfiguration()
            if self == .inotifyNoHeartbeat { configuration.health.interval = nil }
            return configuration
        }
    }

    static func run(count: Int, seconds: Int, variants: [Variant]) async {
        let folder = makeTemporaryFolder()
        defer { removeTree(folder) }
        writeChaosPhotons(count, in: folder)
        let clock = ContinuousClock()
        var start = clock.now
        let pids = (0..<count).map { BareSpawn.spawn(folder + "/p\($0)") }
        pids.forEach(BareSpawn.reap)
        let bare = start.duration(to: clock.now)

        var report = Report("scale")
        report["photons"] = .int(Int64(count))
        report["bare_s"] = .double(milliseconds(bare) / 1000)
        report["idle_seconds"] = .int(Int64(seconds))
        for variant in variants {
            let name = variant.rawValue
            let loader = Loader(configuration: variant.configuration)
            let before = Memory.now()
            start = clock.now
            await watch(folder, count, with: loader, variant)
            report["\(name)_load_s"] = .double(milliseconds(start.duration(to: clock.now)) / 1000)
            before.add(to: &report, "\(name)_before_")
            report["\(name)_rss_before_kib"] = .int(Int64(before.residentKiB))
            Memory.now().add(to: &report, "\(name)_")
            // The whole window, and its second half alone (timers left by the load have fired).
            let idle = cpuSeconds()
            try? await Task.sleep(for: .seconds(seconds) / 2)
            let half = cpuSeconds()
            try? await Task.sleep(for: .seconds(seconds) / 2)
            report["\(name)_idle_cpu_s"] = .double(cpuSeconds() - idle)
            report["\(name)_idle_cpu_late_s"] = .double(cpuSeconds() - half)
            Memory.now().add(to: &report, "\(name)_idle_")
            await loader.stopWatchingPhotons()
            start = clock.now
            await loader.unloadAll(forceStop: true)
            report["\(name)_unload_s"] = .double(milliseconds(start.duration(to: clock.now)) / 1000)
        }
        report.print()
    }

    /// Watches `folder` with `loader` as `variant` says; stops the benchmark unless all `count`
    /// photon files in it loaded.
    private static func watch(_ folder: String, _ count: Int, with loader: Loader, _ variant: Variant) async {
        do {
            try await loader.watchPhotons(in: folder, backend: variant.backend)
        } catch {
            fail("cannot watch \(folder): \(error)")
        }
        let loaded = await loader.photons.count
        guard loaded == count else { fail("\(loaded) of \(count) photons loaded") }
    }

    /// `count` photon files loaded as `inotify-no-heartbeat` loads them, the memory before and after,
    /// and then an exit with them still loaded (their workers die with the supervisor): run under
    /// heaptrack, what it reports leaked is what the loaded photons hold.
    static func holdForProfile(count: Int) async {
        let folder = makeTemporaryFolder()
        writeChaosPhotons(count, in: folder)
        let variant = Variant.inotifyNoHeartbeat
        let loader = Loader(configuration: variant.configuration)
        var report = Report("memory")
        report["photons"] = .int(Int64(count))
        Memory.now().add(to: &report, "before_")
        await watch(folder, count, with: loader, variant)
        Memory.now().add(to: &report, "")
        removeTree(folder)
        report.print()
        exit(0)
    }
}
