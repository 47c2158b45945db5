#if canImport(Glibc)
import Glibc
#endif
import Luminal
import Synchronization

/// Time from the last write of a changed photon file to its new generation serving calls, under
/// `watchPhotons` with the default quiet period, beside the time the same worker takes to spawn
/// and say a validated hello (the reload's own readyAfter, and cold loads), in the same run.
enum ReloadLatency {
    static func run(photon: String, runs: Int) async {
        let loader = Loader()
        let events = loader.events()
        let folder = makeTemporaryFolder()
        defer { removeTree(folder) }
        let target = folder + "/" + String(photon.split(separator: "/").last ?? "photon")
        copyPhoton(photon, to: target, folder: folder)
        let quiet = Duration.milliseconds(150)
        do {
            try await loader.watchPhotons(in: folder, quietPeriod: quiet)
        } catch {
            fail("cannot watch: \(error)")
        }
        guard let handler = await loader.photons.values.first else {
            fail("the photon did not load")
        }
        var iterator = events.makeAsyncIterator()
        var latencies: [Duration] = [], spawnToHello: [Duration] = []
        for run in 0..<runs {
            append(byte: UInt8(run % 256), to: target, folder: folder)
            let written = ContinuousClock.now
            var began: ContinuousClock.Instant?
            while let event = await iterator.next() {
                if case .reloadStarted = event { began = .now }
                if case .reloaded(let report) = event, let began {
                    latencies.append(written.duration(to: began) + report.readyAfter + report.startedAfter)
                    spawnToHello.append(report.readyAfter)
                    break
                }
                if case .reloadRolledBack(_, let step, let reason) = event {
                    fail("reload failed at \(step): \(reason)")
                }
            }
        }
        _ = try? await handler.call(handler.methods.first ?? "greet", params: ["who": "bench"])
        await loader.stopWatchingPhotons()
        await loader.unloadAll()

        var cold: [Duration] = []
        for _ in 0..<runs {
            let fresh = Loader()
            let start = ContinuousClock.now
            _ = try? await fresh.loadPhoton(at: target)
            cold.append(start.duration(to: .now))
            await fresh.unloadAll(forceStop: true)
        }
        var report = Report("reload")
        report["photon"] = .string(photon)
        report["quiet_ms"] = .double(milliseconds(quiet))
        report.add("write_to_serving", Stats(latencies))
        report.add("spawn_hello_in_reload", Stats(spawnToHello))
        report.add("cold_load", Stats(cold))
        report.print()
    }

    /// Copies the photon (and, for the Python example, its runtime beside it) into `folder`.
    private static func copyPhoton(_ photon: String, to target: String, folder: String) {
        copyFile(photon, to: target, mode: 0o755)
        if photon.hasSuffix(".py") { copyFile(parent(photon) + "/luminal_photon.py", to: folder + "/luminal_photon.py", mode: 0o644) }
    }

    /// Rewrites the photon file with one more byte, as a build or an editor would: temp file + rename.
    private static func append(byte: UInt8, to target: String, folder: String) {
        var bytes = readFile(target)
        bytes.append(target.hasSuffix(".py") ? UInt8(ascii: "\n") : byte)
        let temporary = folder + "/.next"
        writeFile(temporary, bytes, mode: 0o755)
        rename(temporary, target)
    }
}
