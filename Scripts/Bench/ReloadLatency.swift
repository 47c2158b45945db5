#if canImport(Glibc)
import Glibc
#endif
import Luminal
import Synchronization

/// Time from the last write of a changed photon file to its new generation serving calls (the
/// switch, which the old generation's drain and stop follow), under
/// `watchPhotons` with the default quiet period, for the two saves that finish at once (a temp
/// file renamed into place, and the file written and closed in one go), beside the time a cold
/// load of the same file takes, in the same run.
enum ReloadLatency {
    /// How a run saves the new version.
    enum Save: String, CaseIterable {
        case rename = "rename"
        case writeAndClose = "write_close"
    }

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
        var report = Report("reload")
        report["photon"] = .string(photon)
        report["quiet_ms"] = .double(milliseconds(quiet))
        var version = 0
        for save in Save.allCases {
            var serving: [Duration] = [], noticed: [Duration] = []
            for _ in 0..<runs {
                version += 1
                let written = saveNextVersion(version, of: target, folder: folder, by: save)
                while let event = await iterator.next() {
                    if case .reloadStarted = event { noticed.append(written.duration(to: .now)) }
                    if case .reloaded(let reloaded) = event {
                        // The event comes once the old generation is stopped; the new one has
                        // served since the switch, which the drain and the stop followed.
                        serving.append(written.duration(to: .now) - reloaded.drainedAfter - reloaded.stoppedAfter)
                        break
                    }
                    if case .reloadRolledBack(_, let step, let reason) = event {
                        fail("reload failed at \(step): \(reason)")
                    }
                }
            }
            report.add("\(save.rawValue)_to_serving", Stats(serving))
            report.add("\(save.rawValue)_to_reload_start", Stats(noticed))
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
        report.add("cold_load", Stats(cold))
        report.print()
    }

    /// Copies the photon (and, for the Python example, its runtime beside it) into `folder`.
    private static func copyPhoton(_ photon: String, to target: String, folder: String) {
        copyFile(photon, to: target, mode: 0o755)
        if photon.hasSuffix(".py") {
            mkdir(folder + "/luminal_photon", 0o755)
            for name in entries(of: parent(photon) + "/luminal_photon") where name.hasSuffix(".py") {
                copyFile(parent(photon) + "/luminal_photon/" + name, to: folder + "/luminal_photon/" + name, mode: 0o644)
            }
        }
    }

    /// Saves the photon file with one more byte (a comment line for the Python one) and returns
    /// when the save was complete. `rename`: temp file + rename, as editors and builds do.
    /// `writeAndClose`: written and closed in one go under its own name; in place for a script,
    /// and as a new file for a binary that runs (the kernel refuses writes to it), as `install` does.
    private static func saveNextVersion(_ version: Int, of target: String, folder: String, by save: Save) -> ContinuousClock.Instant {
        var bytes = readFile(target)
        bytes.append(target.hasSuffix(".py") ? UInt8(ascii: "\n") : UInt8(version % 256))
        switch save {
        case .rename:
            let temporary = folder + "/.next"
            writeFile(temporary, bytes, mode: 0o755)
            rename(temporary, target)
        case .writeAndClose:
            var fd = open(target, O_WRONLY | O_TRUNC | O_CLOEXEC)
            if fd < 0 && errno == ETXTBSY {
                unlink(target)
                fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o755)
            }
            bytes.withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
        return .now
    }
}
