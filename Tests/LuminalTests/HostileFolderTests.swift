#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalTestKit
@testable import LuminalWorker
import Synchronization
import Testing

extension Supervisor {
    /// `luminal run` on a folder that holds things a photon file cannot be: every one is named
    /// once with its reason, and none of them holds back the photons, status or shutdown.
    @Suite struct HostileFolder {
        /// The lines of `run` that say `path` was skipped.
        func skips(_ run: CommandProcess, _ path: String) -> Int {
            run.lines.filter { $0.contains("skipped \(path):") }.count
        }

        @Test func aScanNeitherLoopsNorFindsAFileTwice() throws {
            let folder = PhotonFolder()
            defer { folder.remove() }
            folder.chaos("alpha")
            symlink("alpha", Paths.join(folder.path, "alias"))
            folder.chaos("deep/beta")
            symlink("..", Paths.join(folder.path, "deep/up"))
            symlink("..", Paths.join(folder.path, "deep/again"))
            let entries = try PhotonScan.scan(folder.path, recursive: true)
            #expect(entries.compactMap { if case .photonFile(let path) = $0 { Paths.name(path) } else { nil } } == ["alpha", "beta"])
            #expect(entries.compactMap { if case .skipped(let path, _) = $0 { Paths.name(path) } else { nil } }.sorted() == ["again", "alias", "up"])
        }

        @Test func aFIFOAndALinkToDevZeroAddedWhileWatchingAreNamedOnceAndTheWatcherGoesOn() async throws {
            let supervised = try await SupervisedFolder(options: []) { $0.chaos("alpha") }
            let fifo = Paths.join(supervised.photons.path, "a-fifo"), zero = Paths.join(supervised.photons.path, "a-zero")
            mkfifo(fifo, 0o755)
            symlink("/dev/zero", zero)
            supervised.photons.chaos("beta")
            try await supervised.run.line { $0.contains("loaded beta") }
            try await supervised.run.line { $0.contains("skipped \(fifo):") }
            try await supervised.run.line { $0.contains("skipped \(zero):") }
            supervised.photons.chaos("gamma") // another pass over the folder: nothing is named again
            try await supervised.run.line { $0.contains("loaded gamma") }
            #expect(skips(supervised.run, fifo) == 1)
            #expect(skips(supervised.run, zero) == 1)
            try await supervised.stop()
        }

        @Test func linksToTheParentFolderNeitherLoopNorLoadAFileTwice() async throws {
            let supervised = try await SupervisedFolder(options: ["--recursive"]) { folder in
                folder.chaos("sub/alpha")
                symlink("..", Paths.join(folder.path, "sub/up"))
                symlink("..", Paths.join(folder.path, "sub/again"))
            }
            #expect(supervised.run.lines.filter { $0.contains("loaded alpha") }.count == 1)
            #expect(!supervised.run.lines.contains { $0.contains("sub/up/") || $0.contains("sub/again/") })
            #expect(skips(supervised.run, Paths.join(supervised.photons.path, "sub/up")) == 1)
            let status = try await supervised.client("status")
            #expect(status.code == 0)
            #expect(status.output.contains { $0.contains("alpha") })
            try await supervised.stop()
        }

        @Test func aHugeFileHoldsBackNeitherTheOthersNorStatusNorShutdown() async throws {
            let supervised = try await SupervisedFolder(options: []) { folder in
                folder.chaos("alpha")
                // Sparse: 64 GiB of holes, far more than could be hashed before the deadline.
                #expect(truncate(folder.write("huge", "", mode: 0o755), 64 << 30) == 0)
            }
            let status = try await supervised.client("status", "alpha")
            #expect(status.code == 0)
            #expect(status.output.contains { $0.contains("alpha") && $0.contains("started") })
            try await supervised.stop()
        }

        @Test func filesThatCannotBeLoadedAreNamedAtStartup() async throws {
            let bytes = Array("bad-".utf8) + [0xFF]
            var unreadable = ""
            let supervised = try await SupervisedFolder(options: []) { folder in
                folder.chaos("alpha")
                folder.write("typo/photon.json", #"{"exec": "run", "argz": []}"#)
                folder.script("typo/run", "exec '\(BuildProducts.chaosPhoton)' serve typo")
                folder.write("cut/photon.json", #"{"exec": "ru"#)
                symlink("loop", Paths.join(folder.path, "loop"))
                symlink("/dev/null", Paths.join(folder.path, "null"))
                let raw = Array(folder.path.utf8) + [UInt8(ascii: "/")] + bytes + [0]
                let fd = raw.withUnsafeBufferPointer { open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_CREAT | O_WRONLY | O_CLOEXEC, 0o755) }
                close(fd)
                unreadable = Paths.join(folder.path, "bad-\\xFF")
            }
            defer {
                let raw = Array(supervised.photons.path.utf8) + [UInt8(ascii: "/")] + bytes + [0]
                _ = raw.withUnsafeBufferPointer { unlink(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self)) }
            }
            let lines = supervised.run.lines
            #expect(lines.contains { $0.contains("typo") && $0.contains("'argz' is not allowed") })
            #expect(lines.contains { $0.contains("cut/photon.json") && $0.contains("JSON") })
            for path in ["loop", "null"].map({ Paths.join(supervised.photons.path, $0) }) + [unreadable] {
                #expect(skips(supervised.run, path) == 1, "\(path)")
            }
            try await supervised.stop()
        }

        @Test func photonsThatNeverSayHelloDoNotHoldBackTheOthersWhenWatchingBegins() async throws {
            try await withLoader { loader, folder in
                for name in ["a-silent", "b-silent"] {
                    folder.write("\(name)/photon.json", #"{"exec": "run", "args": ["no-hello", "\#(name)"], "timeouts": {"handshake": 3600}}"#)
                    folder.script("\(name)/run", "exec '\(BuildProducts.chaosPhoton)' \"$@\"")
                }
                folder.chaos("c-alpha", photon: "alpha")
                let events = EventLog(loader)
                let watching = Task {
                    try await loader.makeWatcher(in: folder.path, selection: PhotonSelection(base: "IPhoton", otherClasses: []), recursive: false,
                                                 backend: .inotify, clock: ManualWatchClock(), quietPeriod: .milliseconds(150))
                }
                _ = try await events.first("alpha started") { event in
                    if case .started("alpha", _) = event { return true }
                    return nil
                }
                await loader.unloadAll(forceStop: true) // abandons the two loads still waiting for a hello
                _ = try? await watching.value
                await loader.stopWatchingPhotons()
            }
        }

        /// More photon files than are brought up at once, the first of them silent until their
        /// handshake timeout: the others wait for a place, then load; none is lost or held for good.
        @Test func filesBeyondTheBringUpWidthWaitForAPlaceThenLoad() async throws {
            try await withLoader(configuration: .fastWithoutRestarts) { loader, folder in
                let silent = (0...Loader.bringUpWidth).map { "a-silent-\($0 < 10 ? "0" : "")\($0)" }
                for name in silent {
                    folder.write("\(name)/photon.json", #"{"exec": "run", "args": ["no-hello", "\#(name)"], "timeouts": {"handshake": 1}}"#)
                    folder.script("\(name)/run", "exec '\(BuildProducts.chaosPhoton)' \"$@\"")
                }
                folder.chaos("z-alpha", photon: "alpha")
                let watching = Task { try await loader.watchPhotons(in: folder.path) }
                try await waitUntil("a file waits for a place") { loader.bringUps.waiting > 0 }
                try await watching.value
                #expect(await loader.photons["alpha"]?.state == .started)
                let failed = await loader.failedFiles
                #expect(failed.map { Paths.name($0.path) } == silent)
                #expect(failed.allSatisfy { $0.error.code == .handshakeTimeout }, "\(failed.map(\.error.message))")
                #expect(loader.bringUps.waiting == 0)
                await loader.stopWatchingPhotons()
            }
        }

        /// 65 photon files whose manifests wait an hour for a hello, ahead of a good one: each holds
        /// its place for the loader's handshake timeout at most, then the good one gets one and loads.
        @Test func aFileSilentPastTheHandshakeTimeoutLendsItsPlaceOn() async throws {
            var configuration = LoaderConfiguration.fastWithoutRestarts
            configuration.handshakeTimeout = .seconds(2)
            try await withLoader(configuration: configuration) { loader, folder in
                for index in 0...Loader.bringUpWidth {
                    let name = "a-silent-\(index < 10 ? "0" : "")\(index)"
                    folder.write("\(name)/photon.json", #"{"exec": "run", "args": ["no-hello", "\#(name)"], "timeouts": {"handshake": 3600}}"#)
                    folder.script("\(name)/run", "exec '\(BuildProducts.chaosPhoton)' \"$@\"")
                }
                folder.chaos("z-alpha", photon: "alpha")
                let events = EventLog(loader)
                let watching = Task { try await loader.watchPhotons(in: folder.path) }
                try await waitUntil("a file waits for a place") { loader.bringUps.waiting > 0 }
                _ = try await events.first("alpha started") { event in
                    if case .started("alpha", _) = event { return true }
                    return nil
                }
                await loader.unloadAll(forceStop: true) // abandons the silent loads
                _ = try? await watching.value
                await loader.stopWatchingPhotons()
            }
        }

        /// Whether a piece of work the test started is over.
        final class Finished: Sendable {
            let value = Atomic(false)
        }

        /// `unloadAll` (a SIGTERM) while more photon files than are brought up at once load from
        /// a folder: the loads in progress are abandoned, and those still waiting for a place are
        /// not begun once one is free, so it returns without waiting for their handshake timeouts
        /// and nothing is loaded, or remembered as failed, behind its back.
        @Test func unloadingAllWhileLoadsWaitForAPlaceBeginsNoneOfThem() async throws {
            try await withLoader(configuration: .placesHeldForGood, suppressErrors: true) { loader, folder in
                // Silent for longer than the test waits: a load begun after the unload holds it up.
                let handshake = 3 * testDeadline.components.seconds
                for index in 0...Loader.bringUpWidth {
                    let name = "a-silent-\(index < 10 ? "0" : "")\(index)"
                    folder.write("\(name)/photon.json", #"{"exec": "run", "args": ["no-hello", "\#(name)"], "timeouts": {"handshake": \#(handshake)}}"#)
                    folder.script("\(name)/run", "exec '\(BuildProducts.chaosPhoton)' \"$@\"")
                }
                folder.chaos("z-alpha", photon: "alpha")
                let loading = Task { try await loader.loadPhotons(in: folder.path) }
                try await waitUntil("every place taken by a load in progress") {
                    await loader.loadingFiles.count == Loader.bringUpWidth && loader.bringUps.waiting > 0
                }
                let unloaded = Finished()
                let unloading = Task {
                    await loader.unloadAll()
                    unloaded.value.store(true, ordering: .releasing)
                }
                try await waitUntil("unloadAll returning") { unloaded.value.load(ordering: .acquiring) }
                await unloading.value
                _ = try await loading.value
                #expect(await loader.photons.isEmpty)
                #expect(await loader.loadingFiles.isEmpty)
                #expect(await loader.failedFiles.isEmpty)
                #expect(loader.bringUps.waiting == 0)
            }
        }

        /// `unloadAll` while watching a folder of more photon files than are brought up at once,
        /// none of which says hello: the acts that get a place while it waits for the abandoned
        /// loads begin no load (it would wait for their handshake timeouts, an hour).
        @Test func unloadingAllWhileWatchedFilesWaitForAPlaceReturns() async throws {
            try await withLoader(configuration: .placesHeldForGood) { loader, folder in
                for index in 0...(Loader.bringUpWidth + 8) {
                    let name = "a-silent-\(index < 10 ? "0" : "")\(index)"
                    folder.write("\(name)/photon.json", #"{"exec": "run", "args": ["no-hello", "\#(name)"], "timeouts": {"handshake": 3600}}"#)
                    folder.script("\(name)/run", "exec '\(BuildProducts.chaosPhoton)' \"$@\"")
                }
                let watching = Task { try await loader.watchPhotons(in: folder.path) }
                try await waitUntil("every place taken by a load in progress") {
                    await loader.loadingFiles.count == Loader.bringUpWidth && loader.bringUps.waiting > 0
                }
                let unloaded = Finished()
                let unloading = Task {
                    await loader.unloadAll(forceStop: true)
                    unloaded.value.store(true, ordering: .releasing)
                }
                try await waitUntil("unloadAll returning") { unloaded.value.load(ordering: .acquiring) }
                await unloading.value
                await loader.stopWatchingPhotons()
                _ = try? await watching.value
                #expect(await loader.photons.isEmpty)
            }
        }

        /// SIGTERM to `luminal run --no-watch` while more photon files than are brought up at once
        /// load, none of which says hello: it exits 0 without beginning the loads that waited for
        /// a place (each would hold the stop up to its handshake timeout, an hour).
        @Test func sigtermWhileLoadsWaitForAPlaceEndsTheRunPromptly() async throws {
            let names = (0...Loader.bringUpWidth).map { "silent-\($0 < 10 ? "0" : "")\($0)" }
            let supervised = try await SupervisedFolder(awaitingStartup: false) { folder in
                for name in names {
                    folder.write("\(name)/photon.json", #"{"exec": "run", "args": ["no-hello", "\#(name)"], "timeouts": {"handshake": 3600}}"#)
                    folder.script("\(name)/run", "exec '\(BuildProducts.chaosPhoton)' \"$@\"")
                }
            }
            try await waitUntil("every place taken by a load in progress") {
                let status = try? await supervised.client("status", "--json").json().arrayValue
                // A place lent out for the run's handshake timeout may have gone back by now.
                return status?.filter { $0["state"] == "loading" }.count ?? 0 >= Loader.bringUpWidth
            }
            try await supervised.stop()
        }

        /// More photon files that never say hello (handshake an hour) than are brought up at once,
        /// added while watching: a change to a loaded photon file is still reloaded, and a removed
        /// one unloaded, at once; neither is a bring-up, so neither waits for a place.
        @Test func aLoadedFileIsReloadedAndUnloadedWhileSilentFilesHoldEveryPlace() async throws {
            try await withLoader(configuration: .placesHeldForGood) { loader, folder in
                folder.chaos("alpha")
                let beta = folder.chaos("beta")
                try await loader.watchPhotons(in: folder.path)
                let alpha = try #require(await loader.photons["alpha"])
                for index in 0...Loader.bringUpWidth {
                    let name = "silent-\(index < 10 ? "0" : "")\(index)"
                    folder.write("\(name)/photon.json", #"{"exec": "run", "args": ["no-hello", "\#(name)"], "timeouts": {"handshake": 3600}}"#)
                    folder.script("\(name)/run", "exec '\(BuildProducts.chaosPhoton)' \"$@\"")
                }
                try await waitUntil("every place taken by a load in progress") {
                    await loader.loadingFiles.count == Loader.bringUpWidth && loader.bringUps.waiting > 0
                }
                folder.script("alpha", "exec '\(BuildProducts.chaosPhoton)' serve alpha # a new version")
                folder.remove(beta)
                try await waitUntil("alpha reloaded and beta unloaded") {
                    let betaLoaded = await loader.photons["beta"] != nil
                    return alpha.generation == 2 && alpha.state == .started && !betaLoaded
                }
                await loader.stopWatchingPhotons(haltThreads: true)
            }
        }

        @Test func aChangeIsActedOnWhileAnotherFileIsStillLoading() async throws {
            try await withLoader { loader, folder in
                folder.write("silent/photon.json", #"{"exec": "run", "args": ["no-hello", "silent"], "timeouts": {"handshake": 3600}}"#)
                folder.script("silent/run", "exec '\(BuildProducts.chaosPhoton)' \"$@\"")
                folder.chaos("alpha")
                let events = EventLog(loader)
                let watching = Task { try await loader.watchPhotons(in: folder.path, quietPeriod: .milliseconds(50)) }
                _ = try await events.first("alpha started") { event in
                    if case .started("alpha", _) = event { return true }
                    return nil
                }
                folder.script("alpha", "# edited\nexec '\(BuildProducts.chaosPhoton)' serve alpha")
                let report = try await events.first("alpha reloaded") { event in
                    if case .reloaded(let report) = event { return report }
                    return nil
                }
                #expect(report.toGeneration == 2)
                await loader.unloadAll(forceStop: true) // abandons the load still waiting for a hello
                _ = try? await watching.value
                await loader.stopWatchingPhotons()
            }
        }

        /// The entries passed over so far, as `skipped` events: path and reason.
        func skipped(_ events: EventLog) -> [String] {
            events.events.compactMap { event in
                if case .skipped(let file, let reason) = event { return "\(Paths.name(file)): \(reason)" }
                return nil
            }.sorted()
        }

        @Test(.serialized, arguments: Watch.backends)
        func eachEntryPassedOverIsOneEventWhileWatching(backend: WatchBackend) async throws {
            try await withLoader { loader, folder in
                folder.chaos("alpha")
                symlink("alpha", Paths.join(folder.path, "alias"))
                folder.chaos("deep/beta")
                symlink("..", Paths.join(folder.path, "deep/up"))
                symlink("..", Paths.join(folder.path, "deep/again"))
                let events = EventLog(loader)
                let clock = ManualWatchClock()
                let watcher = try await loader.makeWatcher(in: folder.path, selection: PhotonSelection(base: "IPhoton", otherClasses: []), recursive: true,
                                                           backend: backend, clock: clock, quietPeriod: Watch.quiet)
                mkfifo(Paths.join(folder.path, "fifo"), 0o755)
                folder.chaos("gamma")
                for _ in 0..<2 {
                    await watcher.iterate()
                    clock.advance(by: Watch.quiet)
                    await watcher.iterate()
                }
                try await events.catchUp(with: loader)
                #expect(await loader.photons.keys.sorted() == ["alpha", "beta", "gamma"])
                #expect(skipped(events) == [
                    "again: a symlink to a folder without photon.json; symlinked folders are not searched",
                    "alias: the same file as \(Paths.join(folder.path, "alpha")), reached by another path; it is loaded once",
                    "fifo: a FIFO, not a regular file or folder",
                    "up: a symlink to a folder without photon.json; symlinked folders are not searched",
                ])
                #expect(!events.events.contains { if case .loadFailed = $0 { true } else { false } })
                await loader.stopWatchingPhotons()
            }
        }
    }
}
