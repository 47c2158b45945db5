#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
@testable import LuminalWorker
import Testing

extension Supervisor.Watch {
    @Test(arguments: backends)
    func aFileTooLargeToHashIsAFailedFileOrAFailedReload(backend: WatchBackend) async throws {
        try await withRig(backend) { rig in
            // A new file: listed as failed, not passed over in silence.
            let huge = rig.folder.write("huge", "", mode: 0o755)
            #expect(truncate(huge, Int(FileDigest.maxBytes) + 1) == 0) // sparse: no disk used
            try await rig.settle()
            let failure = try #require(await rig.loader.failedFiles.first { $0.path == huge })
            #expect(failure.error.message.contains(huge), "\(failure.error.message)")
            // A loaded file: a failed reload; the generation serving keeps serving.
            #expect(truncate(rig.alpha, Int(FileDigest.maxBytes) + 1) == 0)
            try await rig.settle()
            let alpha = try #require(await rig.loader.photons["alpha"])
            #expect(alpha.state == .started && alpha.generation == 1)
            #expect(rig.count("rolledBack") == 1)
            #expect(alpha.snapshot.reloadFailure != nil)
        }
    }

    @Test func aFailedFileTheOperatorStoppedStaysAsItIsUntilStarted() async throws {
        try await withRig(.inotify, prepare: { folder in
            folder.write("web/photon.json", #"{"exec": "run", "restrat": "always"}"#)
            folder.script("web/run", "exec '\(BuildProducts.chaosPhoton)' serve web")
        }) { rig in
            let web = Paths.join(rig.folder.path, "web")
            #expect(await rig.loader.failedFiles.map(\.path) == [web])
            #expect(try await rig.loader.stopPhoton(web).ending == .notLoaded)
            #expect(await rig.loader.failedFiles.first?.stopped == true)
            // Broken another way: not even looked at, so no failure more.
            rig.folder.write("web/photon.json", #"{"exec": "run", "restrat": "never"}"#)
            try await rig.settle()
            #expect(await rig.loader.failedFiles.first.map { $0.failures == 1 && $0.stopped } == true)
            // Fixed on disk: not loaded, since the operator stopped it.
            rig.folder.write("web/photon.json", #"{"exec": "run"}"#)
            try await rig.settle()
            #expect(await rig.loader.photons["web"] == nil)
            #expect(await rig.loader.failedFiles.first?.stopped == true)
            // A reload is refused, as for a stopped loaded file; a start loads it as it is now.
            let refused = try await #require(throws: LoaderError.self) { try await rig.loader.reloadPhotons([web]) }
            #expect(refused.code == .notStarted)
            let started = try await rig.loader.startPhoton(web)
            #expect(started.map(\.name) == ["web"] && started.allSatisfy { $0.state == .started })
            #expect(await rig.loader.failedFiles.isEmpty)
        }
    }

    @Test(arguments: backends)
    func aFailedReloadIsOverOnceTheFileIsBackToTheVersionServing(backend: WatchBackend) async throws {
        try await withRig(backend) { rig in
            let alpha = try #require(await rig.loader.photons["alpha"])
            // It loses its x bit: a failed reload; the generation serving keeps serving.
            #expect(chmod(rig.alpha, 0o644) == 0)
            try await rig.settle()
            #expect(alpha.snapshot.reloadFailure != nil)
            // Its x bit back, the very bytes that serve: nothing to reload, and nothing failed.
            #expect(chmod(rig.alpha, 0o755) == 0)
            try await rig.settle()
            #expect(alpha.snapshot.reloadFailure == nil)
            #expect(alpha.generation == 1 && alpha.state == .started)
            #expect(rig.count("reloaded") == 0)
        }
    }
}

extension Supervisor.Watch {
    /// A wake looks at the paths that changed, not at the whole folder: a save, a new file and a
    /// removal need no scan; a hard link (which of its paths loads depends on both) does.
    @Test(arguments: backends)
    func aWakeLooksAtWhatChangedNotTheWholeFolder(backend: WatchBackend) async throws {
        try await withRig(backend) { rig in
            #expect(await rig.watcher.scans == 1)
            rig.folder.write(".alpha.new", alphaScript("v2"), mode: 0o755)
            rename(Paths.join(rig.folder.path, ".alpha.new"), rig.alpha)
            rig.folder.chaos("beta")
            try await rig.settle()
            #expect(await rig.loader.photons["alpha"]?.generation == 2)
            #expect(await rig.loader.photons["beta"]?.state == .started)
            rig.folder.remove(Paths.join(rig.folder.path, "beta"))
            try await rig.settle()
            #expect(await rig.loader.photons["beta"] == nil)
            #expect(await rig.watcher.scans == 1)
            // A second path to alpha: passed over as the same file, which takes a whole scan to tell.
            #expect(link(rig.alpha, Paths.join(rig.folder.path, "alpha-again")) == 0)
            try await rig.settle()
            #expect(await rig.watcher.scans == 2)
            #expect(await rig.watcher.skips[Paths.join(rig.folder.path, "alpha-again")]?.contains("the same file as") == true)
        }
    }
}
