#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalDaemon
@testable import LuminalSystem
import LuminalWire
@testable import LuminalWorker
import Testing

extension Supervisor {
    /// `luminal run --metrics`' health endpoints, essential photons, and the stop an orchestrator asks for.
    @Suite struct HealthEndpoints {
        /// `/readyz` says what `status --check` says, naming each photon file that is not ready and why.
        @Test func readyzAndLivezFollowThePhotonsAsStatusCheckDoes() async throws {
            let supervisor = try await SupervisedFolder(options: ["--no-watch", "--metrics", "127.0.0.1:0"]) { $0.chaos("first") }
            let port = try await supervisor.metricsPort()
            let file = Paths.join(supervisor.photons.path, "first")
            #expect(try HTTPProbe.exchange(port, "GET /livez HTTP/1.1\r\n\r\n").status == 200)
            let ready = try HTTPProbe.exchange(port, "GET /readyz HTTP/1.1\r\n\r\n")
            #expect(ready.status == 200, "\(ready.body)")
            #expect(try await supervisor.client("status", "--check").code == 0)

            #expect(try await supervisor.client("stop", "first").code == 0)
            let unready = try HTTPProbe.exchange(port, "GET /readyz HTTP/1.1\r\n\r\n")
            #expect(unready.status == 503)
            #expect(unready.body == "\(file): photon first is stopped\n", "\(unready.body)")
            #expect(try await supervisor.client("status", "--check").code == 3)
            let head = try HTTPProbe.exchange(port, "HEAD /readyz HTTP/1.1\r\n\r\n")
            #expect(head.status == 503 && head.body.isEmpty)
            #expect(try HTTPProbe.exchange(port, "POST /readyz HTTP/1.1\r\n\r\n").status == 405)
            #expect(try HTTPProbe.exchange(port, "GET /healthz HTTP/1.1\r\n\r\n").status == 404)

            #expect(try await supervisor.client("start", "first").code == 0)
            #expect(try HTTPProbe.exchange(port, "GET /readyz HTTP/1.1\r\n\r\n").status == 200)
            try await supervisor.stop()
        }

        /// A photon file whose failure `luminal run` lists (it loads it itself) makes `/readyz` 503 with the manifest's error.
        @Test func readyzNamesAFailedFileAndItsCause() async throws {
            let supervisor = try await SupervisedFolder(options: ["--no-watch", "--metrics", "127.0.0.1:0"]) { folder in
                folder.chaos("first")
                folder.write("broken/photon.json", #"{"exec": "w", "restrat": "always"}"#)
            }
            let port = try await supervisor.metricsPort()
            let unready = try HTTPProbe.exchange(port, "GET /readyz HTTP/1.1\r\n\r\n")
            #expect(unready.status == 503)
            let lines = unready.body.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].hasPrefix(Paths.join(supervisor.photons.path, "broken") + ": failed: ")
                    && lines[0].contains("'restrat'"), "\(unready.body)")
            try await supervisor.stop()
        }

        /// A host's not-ready reason answers `/readyz` at once; clearing another reason leaves it,
        /// clearing it gives the photons' answer back (`luminal run` holds one while its folder first loads).
        @Test func aNotReadyReasonHoldsUntilThatReasonIsCleared() async throws {
            try await withLoader { loader, folder in
                folder.chaos("first")
                for handler in try await loader.loadPhotons(in: folder.path, base: nil) { try await handler.start() }
                let server = try MetricsServer(loader: loader, host: "127.0.0.1", port: 0)
                defer { server.close() }
                let port = server.port
                let get = { (path: String) in try await offThePool { try HTTPProbe.exchange(port, "GET \(path) HTTP/1.1\r\n\r\n") } }
                #expect(try await get("/readyz").status == 200)
                server.setNotReady("loading")
                let loading = try await get("/readyz")
                #expect(loading.status == 503 && loading.body == "not ready: loading\n", "\(loading.body)")
                server.setNotReady("stopping")
                server.clearNotReady("loading")
                #expect(try await get("/readyz").body == "not ready: stopping\n")
                server.clearNotReady("stopping")
                #expect(try await get("/readyz").status == 200)
                // A reason is one line whatever it holds.
                server.setNotReady("loading /a\nb")
                #expect(try await get("/readyz").body == "not ready: loading /a\\x0ab\n")
                server.clearNotReady("loading /a\nb")
                #expect(try await get("/readyz").status == 200)
                // Liveness is not readiness.
                server.setNotReady("stopping")
                #expect(try await get("/livez").status == 200)
            }
        }

        /// The folder a host is about to load is listed by `status` (loading, not ready) from the
        /// control socket's first client on, before any of its photon files is read, until the
        /// host says its first load is over: an empty status said ready before anything loaded.
        @Test func aFolderWhoseFirstLoadIsAwaitedIsNotReady() async throws {
            try await withLoader { loader, folder in
                folder.chaos("first")
                let path = Paths.join(folder.path, "control.sock")
                let server = try ControlServer(loader: loader, path: path, loadingFolder: folder.path)
                defer { server.close() }
                let status = { try await offThePool { () throws -> [JSONValue] in
                    let connection = try RawControlConnection(path)
                    connection.send(ControlRequest(.status))
                    return try #require(try connection.receive()?["result"]?.arrayValue)
                } }
                let loading = try await status()
                #expect(loading.count == 1 && loading[0]["file"]?.stringValue == folder.path && loading[0]["folder"] == true
                        && loading[0]["state"] == "loading", "\(loading)")
                #expect(Readiness.unready(loading).count == 1)
                #expect(Readiness.line(loading[0]) == "\(folder.path): loading")

                for handler in try await loader.loadPhotons(in: folder.path, base: nil) { try await handler.start() }
                // Loaded and started, the photons are ready but the folder is listed until the host says so.
                #expect(try await status().count == 2)
                server.folderLoaded()
                let loaded = try await status()
                #expect(loaded.count == 1 && loaded[0]["name"] == "first" && Readiness.unready(loaded).isEmpty, "\(loaded)")
            }
        }

        /// An essential photon that is not restarted stops every photon, and `luminal run` exits 6.
        @Test func anEssentialPhotonThatCannotBeKeptRunningStopsTheRun() async throws {
            let supervisor = try await SupervisedFolder { folder in
                folder.chaos("first")
                folder.chaos("vital/worker", photon: "vital")
                folder.write("vital/photon.json", #"{"exec": "worker", "essential": true, "restart": "never"}"#)
            }
            let other = try await supervisor.startedPID("first")
            _ = try await supervisor.startedPID("vital")
            _ = try await supervisor.client("call", "vital", "crash")
            let status = await supervisor.run.process.waitForExit(timeout: testDeadline)
            #expect(status == .exited(code: 6), "\(status.map { "\($0)" } ?? "no exit"); \(supervisor.run.lines.suffix(20))")
            let vital = Paths.join(supervisor.photons.path, "vital")
            #expect(supervisor.run.lines.contains { $0.contains("essential photon file \(vital)") && $0.contains("exiting 6") })
            // Stopped in order, not left behind: the other photon's finalizer ran.
            #expect(supervisor.run.lines.contains { $0.contains("first finalizer ran") })
            #expect(!exists(pid_t(other)))
        }

        /// `"essential"` takes true or false; anything else is refused, naming the manifest and the key.
        @Test func anEssentialKeyThatIsNotABooleanIsRefused() async throws {
            let folder = PhotonFolder()
            defer { folder.remove() }
            folder.chaos("vital/worker", photon: "vital")
            let manifest = folder.write("vital/photon.json", #"{"exec": "worker", "essential": "yes"}"#)
            #expect(throws: LoaderError.self) { try Manifest.load(package: Paths.parent(manifest)) }
            do {
                _ = try Manifest.load(package: Paths.parent(manifest))
            } catch {
                #expect(error.message.contains(manifest) && error.message.contains("'essential' must be true or false"), "\(error.message)")
            }
            folder.write("vital/photon.json", #"{"exec": "worker", "essential": true}"#)
            #expect(try Manifest.load(package: Paths.parent(manifest)).essential)
        }

        /// SIGTERM with 100 calls sent and not answered: `/readyz` turns 503 while the workers still
        /// serve, every call is answered (those waiting behind another on a connection too), then
        /// the workers stop and the run exits 0.
        @Test func sigtermTurnsReadyzFirstThenDrainsTheCallsInFlight() async throws {
            let supervisor = try await SupervisedFolder(options: ["--no-watch", "--metrics", "127.0.0.1:0"]) { $0.chaos("first") }
            let port = try await supervisor.metricsPort()
            let worker = try await supervisor.startedPID("first")
            // One call that holds the drain until the test lets it go: it reads a FIFO.
            let gate = Paths.join(supervisor.scratch.path, "gate")
            #expect(mkfifo(gate, 0o600) == 0)
            let held = try RawControlConnection(supervisor.control)
            held.send(ControlRequest(.call, targets: ["first"], method: "run", params: ["argv": ["/bin/sh", "-c", .string("read line < '\(gate)'")]]))
            // 100 calls of 500 ms, 4 on each of 25 connections.
            let callers = try (0..<25).map { _ in try RawControlConnection(supervisor.control) }
            for caller in callers {
                for _ in 0..<4 { caller.send(ControlRequest(.call, targets: ["first"], method: "sleep", params: ["ms": 500])) }
            }
            // A connection runs its calls one after the other: once every connection's first call
            // runs (2 s of calls each), most of the 100 wait behind them when the signal comes, and
            // must be answered too.
            try await waitUntil("a call of every connection in flight") {
                let metrics = try Exposition(try HTTPProbe.exchange(port, "GET /metrics HTTP/1.1\r\n\r\n").body)
                return (metrics.value("luminal_calls_in_flight", ["photon": "first"]) ?? 0) >= Double(callers.count + 1)
            }
            #expect(try HTTPProbe.exchange(port, "GET /readyz HTTP/1.1\r\n\r\n").status == 200)
            supervisor.run.process.signal(SIGTERM)
            var answer = HTTPResponse("")
            try await waitUntil("/readyz answers 503") {
                answer = try HTTPProbe.exchange(port, "GET /readyz HTTP/1.1\r\n\r\n")
                return answer.status == 503
            }
            #expect(answer.body == "not ready: SIGTERM: luminal is stopping\n", "\(answer.body)")
            // The worker still serves: the held call keeps the drain going.
            #expect(isAlive(pid_t(worker)))
            #expect(try HTTPProbe.exchange(port, "GET /livez HTTP/1.1\r\n\r\n").status == 200)
            let release = open(gate, O_WRONLY | O_CLOEXEC)
            #expect(release >= 0)
            close(release)
            var failed: [String] = []
            for caller in callers {
                for _ in 0..<4 {
                    let reply = try #require(try caller.receive(), "a connection closed before its calls were answered")
                    if reply["ok"] != true { failed.append("\(reply)") }
                }
            }
            let heldReply = try #require(try held.receive())
            #expect(heldReply["ok"] == true, "\(heldReply)")
            #expect(failed.count == 0, "calls failed: \(failed.prefix(3))")
            let status = await supervisor.run.process.waitForExit(timeout: testDeadline)
            #expect(status == .exited(code: 0), "\(status.map { "\($0)" } ?? "no exit"); \(supervisor.run.lines.suffix(20))")
            #expect(!exists(pid_t(worker)))
        }
    }
}
