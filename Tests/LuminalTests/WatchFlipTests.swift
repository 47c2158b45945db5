#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
import Testing

extension Supervisor.Watch {
    @Test(.serialized, arguments: backends)
    func aFileFlippingBetweenGoodAndBrokenOnEverySaveNeverStopsServing(backend: WatchBackend) async throws {
        try await withRig(backend) { rig in
            let alpha = try #require(await rig.loader.photons["alpha"])
            for round in 1...3 {
                rig.folder.write("alpha", "#!/bin/sh\n# broken \(round)\nexit 3\n", mode: 0o755)
                try await rig.settle()
                try await rig.settle()
                #expect(rig.count("rolledBack") == round && rig.count("reloaded") == round - 1, "round \(round)")
                #expect(alpha.state == .started && alpha.snapshot.reloadFailure?.step == .handshake, "round \(round)")
                #expect(try await alpha.call("echo", params: "up") == "up")
                rig.folder.write("alpha", alphaScript("good \(round)"), mode: 0o755)
                try await rig.settle()
                try await rig.settle()
                #expect(rig.count("reloaded") == round, "round \(round)")
                #expect(alpha.state == .started && alpha.generation == round + 1 && alpha.snapshot.reloadFailure == nil, "round \(round)")
            }
            #expect(rig.count("stopped") == 0)
        }
    }

    @Test(.serialized, arguments: backends)
    func aFileRemovedWhileItLoadsEndsUnloadedAndNotFailed(backend: WatchBackend) async throws {
        try await withRig(backend) { rig in
            let flag = Paths.join(rig.folder.path, "go.flag")
            let beta = rig.folder.script("beta", "while [ ! -e '\(flag)' ]; do sleep 0.01; done\nexec '\(BuildProducts.chaosPhoton)' serve beta")
            let looking = Task { try await rig.settle() }
            try await waitUntil("beta is being loaded") { await rig.loader.records[beta].isLoading }
            unlink(beta)
            rig.folder.write("go.flag", "")
            try await looking.value
            try await rig.settle()
            try await rig.settle()
            #expect(await rig.loader.photons["beta"] == nil)
            #expect(await rig.loader.failedFiles.isEmpty)
            #expect(await rig.loader.photons["alpha"]?.state == .started)
        }
    }
}

extension Supervisor.FailedFiles {
    @Test func aThousandFailedFilesBesideTenGoodOnesAreListedOnce() async throws {
        try await withLoader(suppressErrors: true) { loader, folder in
            for index in 0..<10 { folder.chaos("good\(index)") }
            for index in 0..<1000 {
                folder.write("bad\(index)/photon.json", index % 2 == 0 ? "{" : #"{"exec": "run", "restrat": 1}"#)
            }
            let handlers = try await loader.loadPhotons(in: folder.path)
            #expect(handlers.count == 10)
            for handler in handlers { try await handler.start() }
            let failed = await loader.failedFiles
            #expect(failed.count == 1000 && Set(failed.map(\.path)).count == 1000)
            #expect(failed.allSatisfy { $0.failures == 1 && $0.error.code == .invalidManifest })
            let metrics = await loader.metrics()
            #expect(metrics.contains("luminal_photon_files_failed 1000"))
            #expect(await loader.photons.values.allSatisfy { $0.state == .started })
            // Unloading everything forgets them.
            await loader.unloadAll()
            #expect(await loader.failedFiles.isEmpty)
        }
    }
}
