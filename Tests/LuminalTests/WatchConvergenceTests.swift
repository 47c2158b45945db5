#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
import Testing

extension Supervisor.Watch {
    /// A script that, the first time it runs, saves a new version of `target` (temp file and
    /// rename) before it serves `photon`: a change made between the loader reading the file and
    /// the watcher following it.
    static func selfReplacing(_ target: String, photon: String, marker: String) -> String {
        let next = "#!/bin/sh\n# version 2\nexec '\(BuildProducts.chaosPhoton)' serve \(photon)\n"
        return """
            #!/bin/sh
            # version 1
            if [ ! -e '\(marker)' ]; then
                : > '\(marker)'
                printf '%s' '\(next)' > '\(target).tmp' && chmod 755 '\(target).tmp' && mv '\(target).tmp' '\(target)'
            fi
            exec '\(BuildProducts.chaosPhoton)' serve \(photon)

            """
    }

    /// The checksum the loader would take of `paths` now.
    static func checksum(_ paths: [String]) throws -> String {
        try FileDigest.sha256(of: paths)
    }

    @Test(.serialized, arguments: backends)
    func aSymlinkTargetSavedDuringTheFirstLoadIsReloaded(backend: WatchBackend) async throws {
        let elsewhere = PhotonFolder()
        defer { elsewhere.remove() }
        let target = Paths.join(elsewhere.path, "delta")
        elsewhere.write("delta", Self.selfReplacing(target, photon: "delta", marker: Paths.join(elsewhere.path, "marker")), mode: 0o755)
        try await withRig(backend, prepare: { symlink(target, Paths.join($0.path, "delta")) }) { rig in
            let delta = try #require(await rig.loader.photons["delta"])
            try await rig.settle()
            #expect(delta.generation == 2)
            #expect(delta.checksum == (try Self.checksum([target])))
            #expect(delta.state == .started)
            try await rig.settle()
            #expect(delta.generation == 2)
        }
    }

    @Test(.serialized, arguments: backends)
    func aWatchListFileSavedDuringTheFirstLoadIsReloaded(backend: WatchBackend) async throws {
        let outside = PhotonFolder()
        defer { outside.remove() }
        let output = outside.write("build/output", "v1")
        let marker = Paths.join(outside.path, "marker")
        try await withRig(backend, prepare: { folder in
            folder.write("pkg/photon.json", #"{"exec": "run", "watch": ["\#(output)"]}"#)
            folder.script("pkg/run", """
                if [ ! -e '\(marker)' ]; then : > '\(marker)'; printf v2 > '\(output).tmp'; mv '\(output).tmp' '\(output)'; fi
                exec '\(BuildProducts.chaosPhoton)' serve pkg
                """)
        }) { rig in
            let pkg = try #require(await rig.loader.photons["pkg"])
            try await rig.settle()
            #expect(pkg.generation == 2)
            #expect(try Paths.read(output) == Array("v2".utf8))
            #expect(pkg.checksum == (try Self.checksum([Paths.join(rig.folder.path, "pkg/photon.json"), Paths.join(rig.folder.path, "pkg/run"), output])))
        }
    }

    @Test func liveWatchingReloadsATargetSavedDuringTheFirstLoad() async throws {
        let elsewhere = PhotonFolder()
        defer { elsewhere.remove() }
        let target = Paths.join(elsewhere.path, "delta")
        elsewhere.write("delta", Self.selfReplacing(target, photon: "delta", marker: Paths.join(elsewhere.path, "marker")), mode: 0o755)
        try await withLoader { loader, folder in
            symlink(target, Paths.join(folder.path, "delta"))
            let events = EventLog(loader)
            try await loader.watchPhotons(in: folder.path)
            let report = try await events.first("reloaded event") { event in
                if case .reloaded(let report) = event { return report }
                return nil
            }
            #expect(report.toGeneration == 2)
            #expect(await loader.photons["delta"]?.checksum == (try Self.checksum([target])))
            await loader.stopWatchingPhotons()
        }
    }

    @Test func aLostEventQueueIsRescannedAndNothingIsMissed() async throws {
        try await withRig(.inotify) { rig in
            rig.folder.chaos("beta")
            try await rig.settle()
            let alpha = try #require(await rig.loader.photons["alpha"])
            let beta = try #require(await rig.loader.photons["beta"])
            // More events than the kernel queues (two files in turn, so none coalesce), unread.
            let limit = Int(String(decoding: try Paths.read("/proc/sys/fs/inotify/max_queued_events").filter { $0 != 10 }, as: UTF8.self)) ?? 16384
            let noise = [rig.folder.write(".noise-a", ""), rig.folder.write(".noise-b", "")]
            for round in 0...(limit / 2 + 1) {
                for file in noise { chmod(file, round % 2 == 0 ? 0o600 : 0o644) }
            }
            // Changes the queue had no room for: an edit, and a package in a new folder.
            rig.folder.write("alpha", alphaScript("after the overflow"), mode: 0o755)
            rig.folder.write("pkg/photon.json", #"{"exec": "run"}"#)
            rig.folder.script("pkg/run", "exec '\(BuildProducts.chaosPhoton)' serve pkg")
            try await rig.settle()
            #expect(alpha.generation == 2)
            #expect(beta.generation == 1)
            let pkg = try #require(await rig.loader.photons["pkg"])
            #expect(pkg.state == .started)
            // The rescan watches the folder that appeared unseen.
            rig.folder.script("pkg/run", "# edited\nexec '\(BuildProducts.chaosPhoton)' serve pkg")
            try await rig.settle()
            #expect(pkg.generation == 2)
        }
    }

    @Test(.serialized, arguments: backends)
    func aWatchListFileInAFolderBuiltLaterIsFollowed(backend: WatchBackend) async throws {
        let outside = PhotonFolder()
        defer { outside.remove() }
        let output = Paths.join(outside.path, "build/release/worker")
        try await withRig(backend, prepare: { folder in
            folder.write("pkg/photon.json", #"{"exec": "run", "watch": ["\#(output)"]}"#)
            folder.script("pkg/run", "exec '\(BuildProducts.chaosPhoton)' serve pkg")
        }) { rig in
            let pkg = try #require(await rig.loader.photons["pkg"])
            try await rig.settle()
            #expect(pkg.generation == 1)
            outside.write("build/release/worker", "built")
            try await rig.settle()
            try await rig.settle()
            #expect(pkg.generation == 2)
            outside.write("build/release/worker", "built again")
            try await rig.settle()
            #expect(pkg.generation == 3)
        }
    }

    @Test(.serialized, arguments: backends)
    func aPackageFileLinkedElsewhereIsFollowed(backend: WatchBackend) async throws {
        let outside = PhotonFolder()
        defer { outside.remove() }
        let built = outside.write("build/worker.bin", "v1")
        try await withRig(backend, prepare: { folder in
            folder.write("pkg/photon.json", #"{"exec": "bin/run", "watch": ["worker.bin"]}"#)
            folder.script("pkg/bin/run", "exec '\(BuildProducts.chaosPhoton)' serve pkg")
            symlink(built, Paths.join(folder.path, "pkg/worker.bin"))
        }) { rig in
            let pkg = try #require(await rig.loader.photons["pkg"])
            outside.write("build/worker.bin", "v2")
            try await rig.settle()
            #expect(pkg.generation == 2)
            // The program in a sub-folder of the package counts too, without --recursive.
            rig.folder.script("pkg/bin/run", "# edited\nexec '\(BuildProducts.chaosPhoton)' serve pkg")
            try await rig.settle()
            #expect(pkg.generation == 3)
        }
    }

    @Test(.serialized, arguments: backends)
    func aSaveDuringAReloadIsReloadedAfterIt(backend: WatchBackend) async throws {
        try await withRig(backend) { rig in
            let alpha = try #require(await rig.loader.photons["alpha"])
            // The new version takes a moment to come up, so the reload is in progress when the next save comes.
            rig.folder.script("alpha", "sleep 0.3; exec '\(BuildProducts.chaosPhoton)' serve alpha")
            await rig.watcher.iterate()
            rig.clock.advance(by: Self.quiet)
            let pass = Task { await rig.watcher.iterate() }
            _ = try await rig.events.first("reload started") { event in
                if case .reloadStarted = event { return true }
                return nil
            }
            rig.folder.write("alpha", alphaScript("the last save"), mode: 0o755)
            try await rig.settle()
            await pass.value
            try await rig.settle()
            // The reload in progress may have read the last save already (generation 2 runs it);
            // if not, the file is acted on again once that reload is over (generation 3).
            #expect(alpha.generation >= 2)
            #expect(alpha.checksum == (try Self.checksum([rig.alpha])))
            #expect(try await alpha.call("echo", params: "last") == "last")
        }
    }

    @Test(.serialized, arguments: backends)
    func aSaveBeforeACrashServesAfterTheRestartWithoutAnotherReload(backend: WatchBackend) async throws {
        try await withRig(backend) { rig in
            let alpha = try #require(await rig.loader.photons["alpha"])
            rig.folder.write("alpha", alphaScript("saved before the crash"), mode: 0o755)
            _ = try? await alpha.call("crash", params: ["exit": 1])
            _ = try await rig.events.first("restarted event") { event in
                if case .restarted = event { return true }
                return nil
            }
            try await rig.settle()
            try await rig.settle()
            #expect(alpha.generation == 2)
            #expect(alpha.state == .started)
            #expect(alpha.checksum == (try Self.checksum([rig.alpha])))
        }
    }
}
