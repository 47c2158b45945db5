#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalTestKit
import LuminalWire
@testable import LuminalWorker
import Testing

extension Supervisor {
    /// The watcher driven by hand: real files and real inotify (or polling), a manual clock, and
    /// explicit iterations, so no test waits for a debounce.
    @Suite struct Watch {
        static let backends: [WatchBackend] = [.inotify, .polling(interval: .seconds(3600))]
        static let quiet = Duration.milliseconds(150)

        /// A watched folder with one started photon, `alpha`.
        struct Rig {
            let loader: Loader
            let folder: PhotonFolder
            let events: EventLog
            let watcher: PhotonWatcher
            let clock: ManualWatchClock

            /// Collects what changed now, then lets `after` pass and acts on what settled.
            func settle(after: Duration = Watch.quiet) async throws {
                await watcher.iterate()
                clock.advance(by: after)
                await watcher.iterate()
                try await events.catchUp(with: loader)
            }

            /// Takes what changed now and acts on what is ready, without moving time.
            func look() async throws {
                await watcher.iterate()
                try await events.catchUp(with: loader)
            }

            /// The photon files reloaded so far, each as often as it was.
            var reloadedFiles: [String] {
                events.events.compactMap { if case .reloaded(let report) = $0 { report.file } else { nil } }
            }

            func count(_ kind: String) -> Int {
                events.events.filter { event in
                    switch (kind, event) {
                    case ("reloaded", .reloaded), ("rolledBack", .reloadRolledBack), ("loaded", .loaded), ("stopped", .stopped): true
                    default: false
                    }
                }.count
            }

            var alpha: String { Paths.join(folder.path, "alpha") }
        }

        /// A rig on `backend`; `prepare` adds to the folder before watching begins.
        func withRig(_ backend: WatchBackend, recursive: Bool = false, configuration: LoaderConfiguration = .fast,
                     prepare: (PhotonFolder) async throws -> Void = { _ in }, _ body: (Rig) async throws -> Void) async throws {
            try await withLoader(configuration: configuration) { loader, folder in
                folder.chaos("alpha")
                try await prepare(folder)
                let events = EventLog(loader)
                let clock = ManualWatchClock()
                let watcher = try await loader.makeWatcher(in: folder.path, selection: PhotonSelection(base: "IPhoton", otherClasses: []),
                                                           recursive: recursive, backend: backend, clock: clock, quietPeriod: Self.quiet)
                #expect(await loader.photons["alpha"]?.state == .started)
                try await body(Rig(loader: loader, folder: folder, events: events, watcher: watcher, clock: clock))
                await loader.stopWatchingPhotons()
            }
        }

        func alphaScript(_ comment: String) -> String {
            "#!/bin/sh\n# \(comment)\nexec '\(BuildProducts.chaosPhoton)' serve alpha\n"
        }

        @Test(.serialized, arguments: backends)
        func saveByTempFileAndRenameReloadsOnce(backend: WatchBackend) async throws {
            try await withRig(backend) { rig in
                rig.folder.write("alpha.tmp", alphaScript("v2"), mode: 0o755)
                rename(Paths.join(rig.folder.path, "alpha.tmp"), rig.alpha)
                try await rig.settle()
                try await rig.settle()
                #expect(rig.count("reloaded") == 1)
                #expect(await rig.loader.photons["alpha"]?.generation == 2)
            }
        }

        @Test(.serialized, arguments: backends)
        func truncateThenWriteReloadsOnceWhenComplete(backend: WatchBackend) async throws {
            try await withRig(backend) { rig in
                let fd = open(rig.alpha, O_WRONLY | O_TRUNC)
                await rig.watcher.iterate()              // sees the empty file
                rig.clock.advance(by: .milliseconds(50))  // less than the quiet period
                Array(alphaScript("v2").utf8).withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
                close(fd)
                try await rig.settle()
                #expect(rig.count("reloaded") == 1)
                #expect(rig.count("rolledBack") == 0)
            }
        }

        @Test(.serialized, arguments: backends)
        func linkerRewritingInPlaceInABurstReloadsOnce(backend: WatchBackend) async throws {
            try await withRig(backend) { rig in
                let bytes = Array(alphaScript(String(repeating: "x", count: 4000)).utf8)
                let fd = open(rig.alpha, O_WRONLY | O_TRUNC)
                for chunk in stride(from: 0, to: bytes.count, by: 500) {
                    bytes[chunk..<min(chunk + 500, bytes.count)].withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
                    await rig.watcher.iterate()
                    rig.clock.advance(by: .milliseconds(20))
                }
                close(fd)
                try await rig.settle()
                try await rig.settle()
                #expect(rig.count("reloaded") == 1)
                #expect(rig.count("rolledBack") == 0)
            }
        }

        @Test(.serialized, arguments: backends)
        func editorLeftoversAreIgnored(backend: WatchBackend) async throws {
            try await withRig(backend) { rig in
                for name in [".alpha.swp", "alpha~", "4913", ".#alpha", "alpha.bak"] {
                    rig.folder.write(name, "junk", mode: 0o755)
                }
                try await rig.settle()
                #expect(rig.count("reloaded") == 0)
                #expect(rig.count("loaded") == 1) // alpha, when watching began
                #expect(await rig.loader.photons.count == 1)
            }
        }

        @Test(.serialized, arguments: backends)
        func touchWithUnchangedContentDoesNotReload(backend: WatchBackend) async throws {
            try await withRig(backend) { rig in
                let same = try Paths.read(rig.alpha)
                rig.folder.write("alpha", String(decoding: same, as: UTF8.self), mode: 0o755)
                try await rig.settle()
                #expect(rig.count("reloaded") == 0)
            }
        }

        @Test(.serialized, arguments: backends)
        func newFilesAreLoadedAndDeletedOnesUnloaded(backend: WatchBackend) async throws {
            try await withRig(backend) { rig in
                rig.folder.chaos("beta")
                try await rig.settle()
                let beta = try #require(await rig.loader.photons["beta"])
                #expect(beta.state == .started)
                unlink(Paths.join(rig.folder.path, "beta"))
                try await rig.settle()
                #expect(await rig.loader.photons["beta"] == nil)
                #expect(beta.state == .stopped)
                #expect(rig.count("stopped") == 1)
            }
        }

        @Test(.serialized, arguments: backends)
        func brokenVersionNeverReplacesTheRunningOneAndIsRetriedOnlyWhenItChanges(backend: WatchBackend) async throws {
            try await withRig(backend) { rig in
                let alpha = try #require(await rig.loader.photons["alpha"])
                rig.folder.script("alpha", "exec '\(BuildProducts.chaosPhoton)' exit-now alpha")
                try await rig.settle()
                #expect(rig.count("rolledBack") == 1)
                #expect(try await alpha.call("echo", params: "up") == "up")
                // Touched, same broken bytes: not retried.
                rig.folder.script("alpha", "exec '\(BuildProducts.chaosPhoton)' exit-now alpha")
                try await rig.settle()
                try await rig.settle()
                #expect(rig.count("rolledBack") == 1)
                // Fixed: reloaded.
                rig.folder.write("alpha", alphaScript("fixed"), mode: 0o755)
                try await rig.settle()
                #expect(rig.count("reloaded") == 1)
                #expect(alpha.generation == 2)
            }
        }

        @Test(.serialized, arguments: backends)
        func aPackageReloadsWhenAFileOnItsWatchListChanges(backend: WatchBackend) async throws {
            try await withRig(backend) { rig in
                // The package runs a program that lives elsewhere, as a build output would.
                let outside = PhotonFolder()
                defer { outside.remove() }
                outside.write("build/output", "v1")
                rig.folder.write("pkg/photon.json", #"{"exec": "run", "args": ["serve", "pkg"], "watch": ["\#(outside.path)/build/output"]}"#)
                rig.folder.script("pkg/run", "exec '\(BuildProducts.chaosPhoton)' \"$@\"")
                try await rig.settle()
                let pkg = try #require(await rig.loader.photons["pkg"])
                #expect(pkg.state == .started)
                outside.write("build/output", "v2")
                try await rig.settle()
                #expect(pkg.generation == 2)
                #expect(rig.count("reloaded") == 1)
            }
        }

        @Test(.serialized, arguments: backends)
        func recursiveWatchingFollowsNewSubFolders(backend: WatchBackend) async throws {
            try await withRig(backend, recursive: true) { rig in
                rig.folder.chaos("deep/er/gamma")
                try await rig.settle()
                #expect(await rig.loader.photons["gamma"]?.state == .started)
                rig.folder.script("deep/er/gamma", "# edited\nexec '\(BuildProducts.chaosPhoton)' serve gamma")
                try await rig.settle()
                #expect(await rig.loader.photons["gamma"]?.generation == 2)
            }
        }

        @Test(.serialized, arguments: backends)
        func editingTheTargetOfASymlinkedPhotonReloadsIt(backend: WatchBackend) async throws {
            try await withRig(backend) { rig in
                let elsewhere = PhotonFolder()
                defer { elsewhere.remove() }
                let target = elsewhere.chaos("delta")
                symlink(target, Paths.join(rig.folder.path, "delta"))
                try await rig.settle()
                let delta = try #require(await rig.loader.photons["delta"])
                elsewhere.script("delta", "# edited\nexec '\(BuildProducts.chaosPhoton)' serve delta")
                try await rig.settle()
                #expect(delta.generation == 2)
            }
        }

        @Test func quarantinedFileIsRetriedAtOnceWhenItsContentChanges() async throws {
            var configuration = LoaderConfiguration.fast
            configuration.restart.quarantineAfter = 2
            configuration.restart.stableAfter = .seconds(3600)
            try await withRig(.inotify, configuration: configuration) { rig in
                let alpha = try #require(await rig.loader.photons["alpha"])
                let broken = "exec '\(BuildProducts.chaosPhoton)' crash-on-start alpha"
                rig.folder.script("alpha", broken)
                try await rig.settle() // the watcher tries the broken version once: rolled back
                _ = try? await alpha.call("crash")
                _ = try await rig.events.first("quarantined") { event in
                    if case .quarantined = event { return true }
                    return nil
                }
                #expect(alpha.state == .quarantined(.crashDuringStart))
                rig.folder.write("alpha", alphaScript("fixed"), mode: 0o755)
                try await rig.settle()
                #expect(alpha.state == .started)
                #expect(try await alpha.call("echo", params: "healed") == "healed")
            }
        }

        @Test func aStoppedFileIsNotReloadedOnChangeAndStartsAsItIsNow() async throws {
            try await withRig(.inotify) { rig in
                let alpha = try #require(await rig.loader.photons["alpha"])
                let before = rig.events.events.count
                let outcome = try await rig.loader.stopPhoton("alpha")
                #expect(outcome.ending == .clean)
                #expect(alpha.state == .stopped)
                #expect(await rig.loader.photons["alpha"] === alpha)
                rig.folder.write("alpha", alphaScript("v2"), mode: 0o755)
                try await rig.settle()
                try await rig.settle()
                #expect(rig.count("reloaded") == 0)
                #expect(alpha.state == .stopped)
                #expect(!rig.events.events.dropFirst(before).contains { if case .failed = $0 { true } else { false } })
                let error = try await #require(throws: LoaderError.self) { try await rig.loader.reloadPhoton("alpha") }
                #expect(error.code == .notStarted)

                let old = alpha.checksum
                #expect(try await rig.loader.startPhoton("alpha") == [alpha])
                #expect(alpha.state == .started)
                #expect(alpha.generation == 2)
                #expect(alpha.checksum != old)
                #expect(try await alpha.call("echo", params: "back") == "back")
            }
        }

        @Test func watchingTwiceIsAnError() async throws {
            try await withRig(.inotify) { rig in
                let error = try await #require(throws: LoaderError.self) { try await rig.loader.watchPhotons(in: rig.folder.path) }
                #expect(error.code == .threadManagerAlreadyRunning)
                #expect(await rig.loader.isWatching)
            }
        }

        @Test(arguments: [false, true])
        func stopWatchingLetsTheCurrentReloadFinishUnlessHalted(halt: Bool) async throws {
            try await withRig(.inotify) { rig in
                let alpha = try #require(await rig.loader.photons["alpha"])
                // The new version takes a moment to start, so the reload is in progress when we stop.
                rig.folder.script("alpha", "sleep 0.3; exec '\(BuildProducts.chaosPhoton)' serve alpha")
                await rig.watcher.iterate()
                rig.clock.advance(by: Watch.quiet)
                let pass = Task { await rig.watcher.iterate() }
                _ = try await rig.events.first("reload started") { event in
                    if case .reloadStarted = event { return true }
                    return nil
                }
                await rig.loader.stopWatchingPhotons(haltThreads: halt)
                #expect(await !rig.loader.isWatching)
                if !halt { #expect(alpha.generation == 2) }
                await pass.value
                #expect(alpha.generation == 2)
                // Nothing more is watched.
                rig.folder.write("alpha", alphaScript("after stop"), mode: 0o755)
                try await rig.settle()
                #expect(alpha.generation == 2)
            }
        }

        @Test func liveWatchingFollowsASymlinkTargetFromTheStart() async throws {
            try await withLoader { loader, folder in
                let elsewhere = PhotonFolder()
                defer { elsewhere.remove() }
                let target = elsewhere.chaos("delta")
                symlink(target, Paths.join(folder.path, "delta"))
                let events = EventLog(loader)
                try await loader.watchPhotons(in: folder.path, quietPeriod: .milliseconds(50))
                elsewhere.script("delta", "# edited\nexec '\(BuildProducts.chaosPhoton)' serve delta")
                let report = try await events.first("reloaded event") { event in
                    if case .reloaded(let report) = event { return report }
                    return nil
                }
                #expect(report.file == Paths.join(folder.path, "delta"))
                await loader.stopWatchingPhotons()
            }
        }

        @Test func liveWatchingReloadsAChangedFile() async throws {
            try await withLoader { loader, folder in
                folder.chaos("alpha")
                let events = EventLog(loader)
                try await loader.watchPhotons(in: folder.path, quietPeriod: .milliseconds(50))
                let alpha = try #require(await loader.photons["alpha"])
                folder.script("alpha", "# live edit\nexec '\(BuildProducts.chaosPhoton)' serve alpha")
                let report = try await events.first("reloaded event") { event in
                    if case .reloaded(let report) = event { return report }
                    return nil
                }
                #expect(report.toGeneration == 2)
                #expect(try await alpha.call("echo", params: "live") == "live")
                await loader.stopWatchingPhotons()
            }
        }
    }
}
