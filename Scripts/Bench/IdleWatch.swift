import Glibc
import Luminal

/// CPU time the supervisor uses over `seconds` while watching `count` started photon files that
/// do nothing, after they are all up.
enum IdleWatch {
    static func run(count: Int, seconds: Int, polling: Bool) async {
        let folder = makeTemporaryFolder()
        defer { removeTree(folder) }
        let photon = parent(executablePath()) + "/chaos-photon"
        for index in 0..<count {
            writeFile(folder + "/p\(index)", Array("#!/bin/sh\nexec '\(photon)' serve p\(index)\n".utf8), mode: 0o755)
        }
        let loader = Loader()
        let setup = ContinuousClock.now
        do {
            try await loader.watchPhotons(in: folder, backend: polling ? .polling(interval: .seconds(1)) : .inotify)
        } catch {
            print("cannot watch: \(error)")
            exit(1)
        }
        let loaded = await loader.photons.count
        let setupTime = setup.duration(to: .now)
        let before = cpuTime()
        try? await Task.sleep(for: .seconds(seconds))
        let used = cpuTime() - before
        print("idle watch, \(polling ? "polling every 1 s" : "inotify"): \(loaded) photons up in \(setupTime); supervisor CPU over \(seconds) s idle: \(used) s")
        await loader.stopWatchingPhotons()
        await loader.unloadAll(forceStop: true)
    }

    /// User + system CPU seconds of this process.
    private static func cpuTime() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}
