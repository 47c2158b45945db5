import Luminal

/// Loading one photon until its hello is validated, beside spawning the same binary without the
/// protocol (no fds 3 and 4, so it exits at once) and reaping it, alternating in the same run.
enum SpawnToReady {
    static func run(photon: String, runs: Int) async {
        let loader = Loader()
        let clock = ContinuousClock()
        var bare: [Duration] = [], loaded: [Duration] = []
        for _ in 0..<runs {
            var start = clock.now
            BareSpawn.reap(BareSpawn.spawn(photon))
            bare.append(start.duration(to: clock.now))
            start = clock.now
            do {
                try await loader.loadPhoton(at: photon)
            } catch {
                fail("cannot load \(photon): \(error)")
            }
            loaded.append(start.duration(to: clock.now))
            await loader.unloadAll(forceStop: true)
        }
        var report = Report("spawn")
        report["photon"] = .string(photon)
        report.add("spawn_exit", Stats(bare))
        report.add("load_ready", Stats(loaded))
        report.print()
    }
}
