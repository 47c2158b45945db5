import Luminal
import LuminalWire
import LuminalWorker
import Synchronization

/// `reloads` atomic reloads of one photon while `callers` tasks call it without pause: the calls
/// that failed (the target is none), and each reload's time to switch (spawn → validated hello →
/// started) beside the whole reload (including draining and stopping the old generation).
enum ReloadUnderLoad {
    static func run(photon: String, reloads: Int, callers: Int) async {
        let loader = Loader()
        let events = loader.events()
        let handler = await startedPhoton(at: photon, in: loader)
        let running = Flag()
        let clock = ContinuousClock()
        var whole: [Duration] = []
        let (succeeded, failures) = await withTaskGroup(of: (Int, [String]).self) { group in
            for caller in 0..<callers {
                group.addTask {
                    var succeeded = 0, failures: [String] = []
                    while running.isSet {
                        do throws(LoaderError) {
                            _ = try await handler.call("echo", params: ["caller": .int(Int64(caller))])
                            succeeded += 1
                        } catch {
                            failures.append(error.code.rawValue)
                        }
                    }
                    return (succeeded, failures)
                }
            }
            for _ in 0..<reloads {
                let start = clock.now
                do {
                    try await loader.reloadPhoton(handler)
                } catch {
                    fail("reload failed: \(error)")
                }
                whole.append(start.duration(to: clock.now))
            }
            running.clear()
            var total = 0, failures: [String] = []
            for await (count, failed) in group {
                total += count
                failures += failed
            }
            return (total, failures)
        }
        await loader.unloadAll()
        var switches: [Duration] = [], hellos: [Duration] = []
        for await event in events {
            if case .reloaded(let report) = event {
                switches.append(report.readyAfter + report.startedAfter)
                hellos.append(report.readyAfter)
                if switches.count == reloads { break }
            }
        }
        var report = Report("reload-under-load")
        report["photon"] = .string(photon)
        report["reloads"] = .int(Int64(reloads))
        report["calls_ok"] = .int(Int64(succeeded))
        report["calls_lost"] = .int(Int64(failures.count))
        report["lost_codes"] = .array(Set(failures).sorted().map { .string($0) })
        report.add("switch", Stats(switches))
        report.add("spawn_hello", Stats(hellos))
        report.add("whole_reload", Stats(whole))
        report["generation"] = .int(Int64(handler.generation))
        report.print()
    }
}

/// A flag the callers read while the reloads run.
