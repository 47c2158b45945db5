#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
import LuminalWire
@testable import LuminalWorker
import Synchronization
import Testing

extension Supervisor {
    /// What the operator asked for holds: a photon that should run and whose start failed is
    /// started by the next generation of its file; one the operator stopped stays stopped.
    @Suite struct StartIntent {
        /// A Python photon `py-greeter` whose start routine raises, or (`fixed`) says it started.
        static func greeter(fixed: Bool) -> String {
            """
            greeter = Photon("py-greeter", kinds=["IPhoton"])

            @greeter.on_start
            def start(ctx):
                \(fixed ? "print(\"py-greeter started\")" : "raise RuntimeError(\"not configured yet\")")

            @greeter.method()
            def greet(params, ctx):
                return "hello"

            run(greeter)
            """
        }

        /// `py-greeter`'s state, as `luminal status --json` shows it.
        static func state(_ supervisor: SupervisedFolder) async throws -> JSONValue? {
            try await supervisor.client("status", "--json", "py-greeter").json()[0]?["state"]
        }

        @Test func aPhotonWhoseStartFailedIsStartedOnceTheWatcherReloadsItsFixedFile() async throws {
            let supervisor = try await SupervisedFolder(options: []) { $0.python("python-greeter.py", Self.greeter(fixed: false)) }
            try await supervisor.run.line { $0.contains("photon py-greeter failed to start") && $0.contains("not configured yet") }
            #expect(try await Self.state(supervisor) == "ready")
            supervisor.photons.python("python-greeter.py", Self.greeter(fixed: true))
            try await supervisor.run.line { $0.contains("reloaded \(supervisor.photons.path)/python-greeter.py") }
            #expect(try await Self.state(supervisor) == "started")
            #expect(try await supervisor.client("call", "py-greeter", "greet").code == 0)
            try await supervisor.stop()
        }

        @Test func withoutWatchingAReloadOfTheFixedFileStartsIt() async throws {
            let supervisor = try await SupervisedFolder { $0.python("python-greeter.py", Self.greeter(fixed: false)) }
            #expect(try await Self.state(supervisor) == "ready")
            supervisor.photons.python("python-greeter.py", Self.greeter(fixed: true))
            #expect(try await supervisor.client("reload", "py-greeter").code == 0)
            #expect(try await Self.state(supervisor) == "started")
            try await supervisor.stop()
        }

        @Test func aStartThatCannotBringTheFileUpLeavesTheWishToRunToTheNextGeneration() async throws {
            try await withLoader(configuration: .fast) { loader, folder in
                let path = folder.package("wish", arguments: ["serve", "wish"])
                let handler = try #require(try await loader.loadPhoton(at: path).first)
                try await handler.start()
                try await loader.stopPhoton(path)
                folder.write("wish/photon.json", #"{"exec": "run", "lmits": {}}"#)
                await #expect(throws: LoaderError.self) { try await loader.startPhoton(path) }
                #expect(handler.state == .stopped)
                // Fixed: the next generation starts it, as the operator asked (it came up ready).
                folder.package("wish", arguments: ["serve", "wish"])
                try await loader.reloadPhoton(path)
                #expect(handler.state == .started)
                #expect(try await handler.call("echo", params: "up") == "up")
            }
        }

        @Test func aRestartStartsTheVersionItCheckedWhateverTheManifestBecomesWhileTheOldWorkerStops() async throws {
            try await withLoader(configuration: .fast) { loader, folder in
                let path = folder.package("slow", arguments: ["slow-stop", "slow"], manifest: #""timeouts": {"stop": 1, "kill": 1}"#)
                let handler = try #require(try await loader.loadPhoton(at: path).first)
                try await handler.start()
                let pid = handler.pid
                let restart = Task { try await loader.restartPhoton(path) }
                try await waitUntil("the old worker is stopping") { handler.state == .stopping }
                let reload = try await #require(throws: LoaderError.self) { try await loader.reloadPhoton(path) }
                #expect(reload.message == "photon file \(path) is being restarted; try again once the restart is over", "\(reload.message)")
                folder.write("slow/photon.json", #"{"exec": "run", "user": "no-such-user-luminal"}"#)
                let restarted = try #require(try await restart.value.first)
                #expect(restarted.state == .started && restarted.pid != pid)
                #expect(try await restarted.call("echo", params: "checked") == "checked")
            }
        }

        @Test func aChangeTheWatcherSeesWhileARestartStopsTheOldWorkerIsLoadedOnceTheRestartIsOver() async throws {
            let lines = Mutex<[String]>([])
            try await withLoader(configuration: .fast, logSink: { record in lines.withLock { $0.append(record.message) } }) { loader, folder in
                let path = folder.package("slow", arguments: ["slow-stop", "slow"], manifest: #""timeouts": {"stop": 1, "kill": 1}"#)
                try await loader.watchPhotons(in: folder.path, quietPeriod: .milliseconds(20))
                let handler = try #require(await loader.photons["slow"])
                try await waitUntil("slow is started") { handler.state == .started }
                let restart = Task { try await loader.restartPhoton(path) }
                try await waitUntil("the old worker is stopping") { handler.state == .stopping }
                // A new version, seen and refused while the file is stopped for the restart.
                _ = folder.package("slow", arguments: ["serve", "slow"])
                try await waitUntil("the watcher saw the change") { lines.withLock { $0.contains("photon file \(path) changed while it is stopped; the change is run when it is started") } }
                let restarted = try #require(try await restart.value.first)
                #expect(restarted.generation == 2)
                // The restart brought up the version it checked; the one on disk follows.
                try await waitUntil("the new version serves") { handler.generation == 3 && handler.state == .started }
                #expect(try await handler.call("echo", params: "new") == "new")
                try await loader.unloadPhoton("slow")
            }
        }

        @Test func aStopOrAnUnloadGivesUpAStartOrAReloadWaitingForAHelloAtOnce() async throws {
            try await withLoader(configuration: .fast) { loader, folder in
                let path = folder.package("hang", arguments: ["serve", "hang"], manifest: #""timeouts": {"handshake": 600}"#)
                let handler = try #require(try await loader.loadPhoton(at: path).first)
                try await handler.start()
                try await loader.stopPhoton(path)
                // Its next worker never says hello: the start waits for it, the stop does not.
                folder.package("hang", arguments: ["no-hello", "hang"], manifest: #""timeouts": {"handshake": 600}"#)
                let start = Task { try await loader.startPhoton(path) }
                try await waitUntil("the new worker is up") { loader.context.liveWorkers.count == 1 }
                let stopped = Task { try await loader.stopPhoton(path) }
                try await waitUntil("the stop is over, not waiting for a hello") { handler.state == .stopped && loader.context.liveWorkers.isEmpty }
                let error = try await #require(throws: LoaderError.self) { try await start.value }
                #expect(error.message == "photon file \(path) was not brought up: a stop or an unload of it gave its new worker up", "\(error.message)")
                _ = try await stopped.value
                // Serving, then a reload to a version that never says hello, given up by an unload.
                folder.package("hang", arguments: ["serve", "hang"], manifest: #""timeouts": {"handshake": 600}"#)
                try await loader.startPhoton(path)
                let pid = handler.pid
                folder.package("hang", arguments: ["no-hello", "hang"], manifest: #""timeouts": {"handshake": 600}"#)
                let reload = Task { try await loader.reloadPhoton(path) }
                try await waitUntil("the new worker is up") { loader.context.liveWorkers.count == 2 }
                let unloaded = Task { try await loader.unloadPhoton(path) }
                try await waitUntil("the unload is over, not waiting for a hello") { await loader.photons.isEmpty && loader.context.liveWorkers.isEmpty }
                let given = try await #require(throws: LoaderError.self) { try await reload.value }
                #expect(given.message == "photon file \(path) was not reloaded: a stop or an unload of it gave its new worker up", "\(given.message)")
                #expect(try await unloaded.value.ending == .clean && pid > 0)
            }
        }

        @Test func aStoppedPhotonWhoseStartFailedStaysStoppedAndARestartOfAFailedOneStartsIt() async throws {
            try await withLoader(configuration: .fast) { loader, folder in
                let path = folder.python("python-greeter.py", Self.greeter(fixed: false))
                let greeter = try #require(try await loader.loadPhoton(at: path).first)
                await #expect(throws: LoaderError.self) { try await greeter.start() }
                // Fixed, and the worker killed: the restart starts the photon.
                folder.python("python-greeter.py", Self.greeter(fixed: true))
                let events = EventLog(loader)
                kill(greeter.pid, SIGKILL)
                _ = try await events.first("restarted") { if case .restarted = $0 { true } else { nil } }
                #expect(greeter.state == .started)
                #expect(greeter.generation == 2)
                // Stopped by the operator: a reload keeps it down, start brings it back.
                try await loader.stopPhoton("py-greeter")
                await #expect(throws: LoaderError.self) { try await loader.reloadPhoton("py-greeter") }
                #expect(greeter.state == .stopped)
                try await loader.startPhoton("py-greeter")
                #expect(greeter.state == .started)
            }
        }
    }
}
