#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
import Testing

extension Supervisor.Watch {
    /// A script photon file `name` that says hello only once `.go` exists in its folder (hidden,
    /// so the watcher ignores it), after creating `.started`; its first run fails at once when
    /// `failingFirst`.
    @discardableResult
    private func latePhoton(_ folder: PhotonFolder, _ name: String, failingFirst: Bool) -> String {
        let count = Paths.join(folder.path, ".count"), started = Paths.join(folder.path, ".started"), go = Paths.join(folder.path, ".go")
        return folder.script(name, """
            n=$(( $(cat '\(count)' 2>/dev/null || echo 0) + 1 )); echo $n > '\(count)'
            \(failingFirst ? "[ $n -eq 1 ] && exit 3" : "")
            touch '\(started)'
            while [ ! -e '\(go)' ]; do sleep 0.05; done
            exec '\(BuildProducts.chaosPhoton)' serve \(name)
            """)
    }

    /// The rig's configuration here: no bring-up gives up on a worker that waits for `.go`.
    private static var patient: LoaderConfiguration {
        var configuration = LoaderConfiguration.fast
        configuration.handshakeTimeout = testDeadline
        return configuration
    }

    /// A failed file removed while the operator's start brings it up: the watcher waits for that
    /// load rather than forgetting a file it is about to load, and unloads it once it is over.
    @Test func aFileRemovedWhileAStartBringsItUpIsUnloadedOnceTheStartIsOver() async throws {
        try await withRig(.inotify, configuration: Self.patient, prepare: { latePhoton($0, "late", failingFirst: true) }) { rig in
            let late = Paths.join(rig.folder.path, "late")
            #expect(await rig.loader.failedFiles.map(\.path) == [late])
            async let start = outcome { () async throws(LoaderError) in try await rig.loader.startPhoton(late) }
            try await waitUntil("the start's worker is up") { Paths.kind(Paths.join(rig.folder.path, ".started")) == .regular }
            rig.folder.remove(late)
            try await rig.settle()
            rig.folder.write(".go", "")
            #expect(try await start.get().map(\.name) == ["late"])
            // What serves converges on the disk: the file is gone, so its photon goes.
            try await rig.settle()
            #expect(await rig.loader.photons["late"] == nil)
            #expect(await rig.loader.failedFiles.isEmpty)
        }
    }

    /// A load the watcher started and gave up on as it stopped is no failure of the file: it is
    /// not listed as failed, and its bytes are loaded when the folder is watched again.
    @Test func aLoadAbandonedAsWatchingStopsIsNoFailure() async throws {
        try await withRig(.inotify, configuration: Self.patient) { rig in
            latePhoton(rig.folder, "late", failingFirst: false)
            async let settled: Void = rig.settle()
            try await waitUntil("the watcher's load is up") { Paths.kind(Paths.join(rig.folder.path, ".started")) == .regular }
            await rig.loader.stopWatchingPhotons()
            try await settled
            #expect(await rig.loader.failedFiles.isEmpty)
            rig.folder.write(".go", "")
            try await rig.loader.watchPhotons(in: rig.folder.path)
            #expect(await rig.loader.photons["late"]?.state == .started)
        }
    }

    /// A hard link to a loaded file, under a name the scan finds first, is the second path to it:
    /// the loaded path keeps serving and is reloaded when it changes, rather than being passed
    /// over (and unloaded) for a link that clashed with it; once the loaded path goes, the link
    /// serves.
    @Test(arguments: backends)
    func aHardLinkToALoadedFileLeavesItServing(backend: WatchBackend) async throws {
        try await withRig(backend) { rig in
            let link = Paths.join(rig.folder.path, "aardvark")
            #expect(Glibc.link(rig.alpha, link) == 0)
            try await rig.settle()
            #expect(await rig.loader.failedFiles.isEmpty)
            #expect(await rig.loader.photons["alpha"]?.filePath == rig.alpha)
            // Saved in place through its own path: it reloads, and serves the new bytes.
            rig.folder.write("alpha", alphaScript("v2"), mode: 0o755)
            try await rig.settle()
            let alpha = try #require(await rig.loader.photons["alpha"])
            #expect(alpha.filePath == rig.alpha && alpha.generation == 2 && alpha.state == .started)
            #expect(await rig.loader.failedFiles.isEmpty)
            // Its loaded path removed, the link, no longer passed over, takes over: loaded once the
            // path is unloaded or, had it come first and clashed, looked at again then.
            rig.folder.remove(rig.alpha)
            for _ in 0..<3 { try await rig.settle() }
            let taken = try #require(await rig.loader.photons["alpha"])
            #expect(taken.filePath == link && taken.state == .started)
            #expect(await rig.loader.failedFiles.isEmpty)
        }
    }

    /// A file that failed only because its photon's name was taken by a loaded file is tried
    /// again once that file is gone: its bytes never failed on their own.
    @Test(arguments: backends)
    func aFileThatClashedLoadsOnceTheFileItClashedWithIsGone(backend: WatchBackend) async throws {
        try await withRig(backend) { rig in
            let other = rig.folder.chaos("zeta", photon: "alpha")
            try await rig.settle()
            #expect(await rig.loader.failedFiles.map(\.error.code) == [.duplicatePhotonName])
            rig.folder.remove(rig.alpha)
            try await rig.settle()
            try await rig.settle()
            let alpha = try #require(await rig.loader.photons["alpha"])
            #expect(alpha.filePath == other && alpha.state == .started)
            #expect(await rig.loader.failedFiles.isEmpty)
        }
    }
}
