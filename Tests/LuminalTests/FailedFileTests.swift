#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
import Synchronization
import Testing

extension Supervisor {
    /// Photon files that failed to load, as `luminal run` and its clients see them.
    @Suite struct FailedFiles {
        static let good = #"{"exec": "run", "args": ["serve", "web"]}"#

        @Test func aFileThatFailedToLoadIsListedCheckedMeasuredAndAddressable() async throws {
            let supervised = try await SupervisedFolder(options: []) { folder in
                folder.chaos("good")
                folder.write("web/photon.json", #"{"exec": "run", "args": ["serve", "web"], "restrat": "always"}"#)
                folder.script("web/run", "exec '\(BuildProducts.chaosPhoton)' \"$@\"")
            }
            let web = Paths.join(supervised.photons.path, "web")
            _ = try await supervised.startedPID("good")

            let status = try await supervised.client("status")
            #expect(status.code == 0)
            #expect(status.output.contains { $0.contains("failed") && $0.hasSuffix(web) }, "\(status.output)")
            #expect(status.output.contains { $0.hasPrefix("\(web): failed once") && $0.contains("'restrat'") }, "\(status.output)")

            let item = try #require(try await supervised.client("status", "--json").json().arrayValue?.first { $0["file"]?.stringValue == web })
            #expect(item["state"] == "failed" && item["healthy"] == false && item["name"] == .null && item["failures"] == 1)
            #expect(item["error"]?["message"]?.stringValue?.contains("key 'restrat' is not allowed") == true, "\(item)")

            let check = try await supervised.client("status", "--check")
            #expect(check.code == 3)
            #expect(check.output.contains { $0.hasPrefix(web) && $0.contains("'restrat'") }, "\(check.output)")
            #expect(!check.output.contains { $0.contains("good") })

            let metrics = try await supervised.client("metrics").output
            #expect(metrics.contains("luminal_file_failed{file=\"\(web)\"} 1"))
            #expect(metrics.contains("luminal_photon_files_failed 1"))

            // Addressed by its path: a reload tries it again (and counts the failure), a stop holds
            // it, a start tries it again and lets it go.
            let reload = try await supervised.client("reload", web)
            #expect(reload.code != 0 && reload.lines.contains { $0.contains("'restrat'") }, "\(reload.lines)")
            #expect(try await supervised.client("status", "--json", web).json()[0]?["failures"] == 2)
            let stop = try await supervised.client("stop", web)
            #expect(stop.code == 0 && stop.output == ["stopped \(web): it had failed to load; nothing ran; it is tried again only by luminal start"], "\(stop.lines)")
            #expect(try await supervised.client("status", "--json", web).json()[0]?["stopped"] == true)
            #expect(try await supervised.client("status").output.contains { $0.hasPrefix("\(web): failed") && $0.hasSuffix("stopped: tried again only by luminal start") })
            #expect(try await supervised.client("reload", web).code != 0)
            #expect(try await supervised.client("start", web).code != 0)
            #expect(try await supervised.client("status", "--json", web).json()[0]?["stopped"] == false)

            // Fixed on disk: the watcher loads and starts it, and it is no longer failed.
            supervised.photons.write("web/photon.json.tmp", Self.good)
            rename(Paths.join(supervised.photons.path, "web/photon.json.tmp"), Paths.join(web, "photon.json"))
            _ = try await supervised.startedPID("web")
            #expect(try await supervised.client("status", "--check").code == 0)
            #expect(try await supervised.client("metrics").output.contains("luminal_photon_files_failed 0"))
        }

        @Test func aFileBeingLoadedIsListedAsLoadingUntilItServes() async throws {
            let supervised = try await SupervisedFolder(options: []) { folder in
                folder.chaos("good")
            }
            let slow = Paths.join(supervised.photons.path, "slow"), go = Paths.join(supervised.photons.path, "go.flag")
            _ = try await supervised.startedPID("good")
            // Says hello only once the flag exists.
            supervised.photons.script("slow/run", "while [ ! -e '\(go)' ]; do sleep 0.05; done\nexec '\(BuildProducts.chaosPhoton)' \"$@\"")
            supervised.photons.write("slow/photon.json", #"{"exec": "run", "args": ["serve", "slow"], "timeouts": {"handshake": 600}}"#)
            var item: JSONValue?
            try await waitUntil("the new file listed as loading") {
                item = try await supervised.client("status", "--json").json().arrayValue?.first { $0["file"]?.stringValue == slow }
                return item != nil
            }
            #expect(item?["state"] == "loading" && item?["healthy"] == false && item?["name"] == .null, "\(String(describing: item))")
            let status = try await supervised.client("status")
            #expect(status.output.contains { $0.contains("loading") && $0.hasSuffix(slow) }, "\(status.output)")
            let check = try await supervised.client("status", "--check")
            #expect(check.code == 3 && check.output == ["\(slow): loading"], "\(check.output)")
            // Its path picks it alone; with a photon's name, both.
            let alone = try await supervised.client("status", "--json", slow).json()
            #expect(alone.arrayValue?.count == 1 && alone[0]?["state"] == "loading", "\(alone)")
            let both = try await supervised.client("status", "--json", slow, "good").json()
            #expect(both.arrayValue?.compactMap { $0["state"]?.stringValue } == ["started", "loading"], "\(both)")
            #expect(try await supervised.client("metrics").output.contains("luminal_photon_files_loading 1"))
            supervised.photons.write("go.flag", "")
            _ = try await supervised.startedPID("slow")
            #expect(try await supervised.client("status", "--check").code == 0)
            #expect(try await supervised.client("metrics").output.contains("luminal_photon_files_loading 0"))
        }

        @Test func startTriesAFailedFileAgainAndUnloadForgetsIt() async throws {
            let supervised = try await SupervisedFolder(options: ["--no-watch"]) { folder in
                folder.chaos("good")
                folder.write("web/photon.json", #"{"exec": "run", "args": ["serve", "web"],}"#)
                folder.script("web/run", "exec '\(BuildProducts.chaosPhoton)' \"$@\"")
                folder.write("other/photon.json", "{")
                folder.script("other/run", "exec '\(BuildProducts.chaosPhoton)' \"$@\"")
            }
            let web = Paths.join(supervised.photons.path, "web"), other = Paths.join(supervised.photons.path, "other")
            let check = try await supervised.client("status", "--check")
            #expect(check.code == 3 && check.output.count == 2, "\(check.output)")
            // `start` loads it as it is now: fixed, it starts.
            supervised.photons.write("web/photon.json", Self.good)
            let start = try await supervised.client("start", web)
            #expect(start.code == 0, "\(start.lines)")
            _ = try await supervised.startedPID("web")
            // `unload` forgets the other.
            let unload = try await supervised.client("unload", other)
            #expect(unload.code == 0 && unload.output == ["unloaded \(other): it had failed to load; nothing ran"], "\(unload.lines)")
            #expect(try await supervised.client("status", "--check").code == 0)
            #expect(try await supervised.client("unload", other).code != 0)
            // An explicit load's failure goes to the one who asked: nothing is listed.
            #expect(try await supervised.client("load", other).code != 0)
            #expect(try await supervised.client("status", "--check").code == 0)
        }
    }
}

extension Supervisor.FailedFiles {
    @Test func aTransientFailureIsTriedAgainByItself() async throws {
        var configuration = LoaderConfiguration.fast
        configuration.handshakeTimeout = .milliseconds(300)
        // Long enough that the second failure's record is read before its retry begins.
        configuration.restart.initialDelay = .seconds(1)
        try await withLoader(configuration: configuration, suppressErrors: true) { loader, folder in
            let flag = Paths.join(folder.path, "ready.flag")
            // Says hello only once the flag exists; until then it never does (a handshake timeout).
            folder.script("slow", "[ -e '\(flag)' ] && exec '\(BuildProducts.chaosPhoton)' serve slow\nexec sleep 3600")
            let events = EventLog(loader)
            _ = try await loader.loadPhotons(in: folder.path)
            let failure = try #require(await loader.failedFiles.first)
            // The first retry follows at once (it may be under way already).
            #expect(failure.error.code == .handshakeTimeout && failure.error.isTransient)
            // Each retry that times out again counts one more failure in a row, and the next
            // retry waits for the restart policy's backoff.
            var second: FailedFile?
            try await waitUntil("a second failure") {
                second = await loader.failedFiles.first.flatMap { $0.failures >= 2 ? $0 : nil }
                return second != nil
            }
            #expect(second?.retryIn != nil)
            folder.write("ready.flag", "")
            _ = try await events.first("slow started by a retry") { event in
                if case .started(let photon, _) = event, photon == "slow" { true } else { nil }
            }
            #expect(await loader.failedFiles.isEmpty)
            #expect(await loader.photons["slow"]?.state == .started)
        }
    }

    @Test func aPermanentFailureWaitsForAChange() async throws {
        try await withLoader(suppressErrors: true) { loader, folder in
            folder.write("web/photon.json", #"{"exec": "run", "restrat": "always"}"#)
            folder.script("web/run", "exec '\(BuildProducts.chaosPhoton)' serve web")
            _ = try await loader.loadPhotons(in: folder.path)
            let failure = try #require(await loader.failedFiles.first)
            #expect(failure.error.code == .invalidManifest && !failure.error.isTransient && failure.retryIn == nil)
        }
    }
}

extension Supervisor.FailedFiles {
    /// A loader with a failed file whose retry is under way (its first attempt never says hello):
    /// `body` runs once the retry's worker is up, waiting for `go` before it says hello.
    private func withRetryUnderWay(_ body: (Loader, PhotonFolder, _ path: String) async throws -> Void) async throws {
        var configuration = LoaderConfiguration.fast
        configuration.handshakeTimeout = .seconds(2)
        try await withLoader(configuration: configuration, suppressErrors: true) { loader, folder in
            let count = Paths.join(folder.path, "count")
            let path = folder.script("slow", """
                n=$(( $(cat '\(count)' 2>/dev/null || echo 0) + 1 )); echo $n > '\(count)'
                [ $n -eq 1 ] && exec sleep 3600
                touch '\(folder.path)/started'
                while [ ! -e '\(folder.path)/go' ]; do sleep 0.05; done
                exec '\(BuildProducts.chaosPhoton)' serve slow
                """)
            _ = try await loader.loadPhotons(in: folder.path)
            try await waitUntil("the retry's worker is up") { Paths.kind(Paths.join(folder.path, "started")) == .regular }
            try await body(loader, folder, path)
        }
    }

    @Test func aStopWhileARetryComesUpHoldsTheFile() async throws {
        try await withRetryUnderWay { loader, folder, path in
            #expect(try await loader.stopPhoton(path).ending == .notLoaded)
            // Free to say hello: the retry was abandoned, or it loads and is stopped.
            folder.write("go", "")
            try await waitUntil("the retry abandoned, or stopped once loaded") {
                let idle = await loader.records.loadingPaths.isEmpty
                let held = await loader.failedFiles.first?.stopped == true
                let stopped = await loader.photons["slow"]?.state == .stopped
                return idle && (held || stopped)
            }
            #expect(await loader.photons["slow"]?.state != .started)
            #expect(await loader.failedFiles.first?.retryIn == nil)
        }
    }

    @Test func anUnloadWhileARetryComesUpForgetsTheFile() async throws {
        try await withRetryUnderWay { loader, folder, path in
            #expect(try await loader.unloadPhotons([path]).map(\.ending) == [.notLoaded])
            folder.write("go", "")
            try await waitUntil("the retry abandoned, or unloaded once loaded") {
                let idle = await loader.records.loadingPaths.isEmpty
                let gone = await loader.photons["slow"] == nil
                return idle && gone
            }
            #expect(await loader.failedFiles.isEmpty)
        }
    }

    /// A start refused because the retry is under way changes nothing: the stop asked just before
    /// it holds, whether the retry was abandoned or loaded all the same.
    @Test func aStartRefusedWhileAStoppedRetryComesUpLeavesTheFileHeld() async throws {
        try await withRetryUnderWay { loader, folder, path in
            let refusal = await loader.stopThenStart(path)
            #expect(refusal?.message.contains("is being loaded already") == true, "\(String(describing: refusal))")
            folder.write("go", "")
            try await waitUntil("the retry over") { await loader.records.loadingPaths.isEmpty }
            let held = await loader.failedFiles.first?.stopped == true
            let stopped = await loader.photons["slow"]?.state == .stopped
            #expect(held || stopped)
        }
    }

    /// A second bring-up of a file whose retry is under way is refused, naming the file: it would
    /// have raced the first for the file's record.
    @Test func aStartWhileARetryComesUpIsRefusedAndTheRetryLoads() async throws {
        try await withRetryUnderWay { loader, folder, path in
            do throws(LoaderError) {
                _ = try await loader.startPhoton(path)
                Issue.record("a start while the retry comes up was not refused")
            } catch {
                #expect(error.message.contains("is being loaded already") && error.message.contains(path))
            }
            folder.write("go", "")
            try await waitUntil("the retry loaded and started") { await loader.photons["slow"]?.state == .started }
            #expect(await loader.failedFiles.isEmpty)
        }
    }
}

extension Supervisor.FailedFiles {
    /// A retry that comes due while the operator's own load of the file is under way is put off,
    /// not lost: that load fails (its failure is its caller's alone), and the retry loads the
    /// file once it is good.
    @Test func aRetryDueDuringAnOperatorsLoadIsPutOffNotLost() async throws {
        var configuration = LoaderConfiguration.fast
        // The second failure's retry waits this long: the operator's load begins in that time.
        configuration.restart.initialDelay = .seconds(3)
        // The put-off retry is seen by its log line.
        let lines = Mutex<[String]>([])
        try await withLoader(configuration: configuration, suppressErrors: true, logSink: { record in lines.withLock { $0.append(record.message) } }) { loader, folder in
            let count = Paths.join(folder.path, "count")
            // Twice silent until a handshake timeout of 1 s (two failures in a row); then the
            // operator's load, with all the time it needs: up, waiting for `go`, then an exit
            // before hello; then good.
            folder.write("slow/photon.json", #"{"exec": "run", "timeouts": {"handshake": 1}}"#)
            folder.script("slow/run", """
                n=$(( $(cat '\(count)' 2>/dev/null || echo 0) + 1 )); echo $n > '\(count)'
                [ $n -le 2 ] && exec sleep 3600
                if [ $n -eq 3 ]; then
                    touch '\(folder.path)/started'
                    while [ ! -e '\(folder.path)/go' ]; do sleep 0.05; done
                    exit 1
                fi
                exec '\(BuildProducts.chaosPhoton)' serve slow
                """)
            let path = Paths.join(folder.path, "slow")
            let events = EventLog(loader)
            _ = try await loader.loadPhotons(in: folder.path)
            try await waitUntil("a second failure") { await loader.failedFiles.first.map { $0.failures >= 2 } ?? false }
            folder.write("slow/photon.json", #"{"exec": "run", "timeouts": {"handshake": 3600}}"#)
            async let operators = outcome { () async throws(LoaderError) in try await loader.loadPhoton(at: path) }
            try await waitUntil("the operator's load is up") { Paths.kind(Paths.join(folder.path, "started")) == .regular }
            try await waitUntil("the retry put off") {
                lines.withLock { $0.contains { $0.contains("photon file \(path) is being loaded already as its retry comes due; tried again in") } }
            }
            folder.write("go", "")
            #expect(await operators.failure?.code == .exitedBeforeHello)
            _ = try await events.first("slow started by the retry put off") { event in
                if case .started(let photon, _) = event, photon == "slow" { true } else { nil }
            }
            #expect(await loader.failedFiles.isEmpty)
        }
    }
}

extension Loader {
    /// `stopPhoton`, then `startPhoton`, of the photon file at `path` in one turn of the loader,
    /// as two commands may come one right after the other.
    /// Returns the start's error, if it failed.
    fileprivate func stopThenStart(_ path: String) async -> LoaderError? {
        _ = try? await stopPhoton(path)
        do throws(LoaderError) {
            _ = try await startPhoton(path)
            return nil
        } catch {
            return error
        }
    }
}

extension Supervisor.FailedFiles {
    /// A photon file whose first load is under way is neither loaded nor unknown: a stop, unload,
    /// start or reload of it is refused, saying that it is being loaded.
    @Test func aCommandOnAFileBeingLoadedSaysItIsBeingLoaded() async throws {
        var configuration = LoaderConfiguration.fast
        configuration.handshakeTimeout = testDeadline
        try await withLoader(configuration: configuration) { loader, folder in
            let started = Paths.join(folder.path, "started"), go = Paths.join(folder.path, "go")
            let path = folder.script("slow", """
                touch '\(started)'
                while [ ! -e '\(go)' ]; do sleep 0.05; done
                exec '\(BuildProducts.chaosPhoton)' serve slow
                """)
            async let load = outcome { () async throws(LoaderError) in try await loader.loadPhoton(at: path) }
            try await waitUntil("the load's worker is up") { Paths.kind(started) == .regular }
            let refusals: [Result<Void, LoaderError>] = [
                await outcome { () async throws(LoaderError) in _ = try await loader.stopPhoton(path) },
                await outcome { () async throws(LoaderError) in _ = try await loader.unloadPhotons([path]) },
                await outcome { () async throws(LoaderError) in _ = try await loader.startPhoton(path) },
                await outcome { () async throws(LoaderError) in _ = try await loader.reloadPhotons([path]) },
            ]
            for refusal in refusals {
                #expect(refusal.failure?.message == "photon file \(path) is being loaded already; try again once that load is over",
                        "\(String(describing: refusal.failure))")
            }
            folder.write("go", "")
            #expect(try await load.get().map(\.name) == ["slow"])
        }
    }
}
