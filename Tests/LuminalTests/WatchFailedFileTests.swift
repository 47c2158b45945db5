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
