#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
@testable import LuminalWorker
import Testing

extension Supervisor {
    /// Programs without the protocol (`"protocol": "none"`), supervised for liveness only.
    @Suite struct PlainExecutables {
        func package(_ folder: PhotonFolder, _ name: String, manifest: String, script: String) -> String {
            folder.write("\(name)/photon.json", manifest)
            folder.script("\(name)/run", script)
            return Paths.join(folder.path, name)
        }

        @Test func runsIsCapturedRestartedAndStoppedBySignal() async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                let path = package(folder, "web", manifest: #"{"exec": "run", "protocol": "none", "ready": 0.2}"#,
                                   script: "echo web up\nexec sleep 3600")
                let web = try #require(try await loader.loadPhoton(at: path).first)
                #expect(web.name == "web" && web.kinds.isEmpty && web.state == .ready)
                let line = try await events.log("web up") // written before it was ready: no photon names yet
                #expect(line.file == path && line.stream == .stdout)
                try await web.start()
                #expect(web.state == .started)
                let call = try await #require(throws: LoaderError.self) { try await web.call("anything") }
                #expect(call.code == .noProtocol)
                let first = web.pid
                kill(first, SIGKILL)
                _ = try await events.first("restarted") { event in
                    if case .restarted(let file, 2, _) = event, file == path { return true }
                    return nil
                }
                #expect(web.pid != first && isAlive(web.pid) && web.state == .started)
                let outcome = try await loader.unloadPhoton(web)
                #expect(outcome.ending == .clean)
                #expect(outcome.exit == .signaled(signal: SIGTERM, coreDumped: false))
            }
        }

        @Test func exitWithinTheReadyTimeIsAFailedLoad() async throws {
            try await withLoader { loader, folder in
                let path = package(folder, "flaky", manifest: #"{"exec": "run", "protocol": "none", "ready": 5}"#,
                                   script: "echo cannot bind >&2\nexit 2")
                let error = try await #require(throws: LoaderError.self) { try await loader.loadPhoton(at: path) }
                #expect(error.code == .exitedBeforeHello)
                #expect(error.message.contains("within its ready time") && error.message.contains("cannot bind"))
                #expect(error.exit == .exited(code: 2))
            }
        }

        @Test func configuredStopSignalAndKillAfterTheTimeout() async throws {
            try await withLoader { loader, folder in
                let polite = package(folder, "polite", manifest: #"{"exec": "run", "protocol": "none", "ready": 0.1, "signal": "INT"}"#,
                                     script: "sleep 3600 &\ntrap 'kill $!; exit 0' INT\ntrap '' TERM\nwait")
                let stubborn = package(folder, "stubborn", manifest: #"{"exec": "run", "protocol": "none", "ready": 0.1}"#,
                                       script: "trap '' TERM\nsleep 3600 &\nwait")
                _ = try await loader.loadPhoton(at: polite)
                _ = try await loader.loadPhoton(at: stubborn)
                let politeEnd = try await loader.unloadPhoton(polite)
                #expect(politeEnd.ending == .clean && politeEnd.exit == .exited(code: 0))
                let stubbornEnd = try await loader.unloadPhoton(stubborn)
                #expect(stubbornEnd.ending == .killed)
            }
        }

        @Test func plainOnlyKeysAreRefusedOnProtocolPhotons() async throws {
            try await withLoader { loader, folder in
                let path = package(folder, "mixed", manifest: #"{"exec": "run", "ready": 1}"#, script: "exit 0")
                let error = try await #require(throws: LoaderError.self) { try await loader.loadPhoton(at: path) }
                #expect(error.message.contains("'ready' is only for plain executables"))
                let odd = package(folder, "odd", manifest: #"{"exec": "run", "protocol": "grpc"}"#, script: "exit 0")
                let oddError = try await #require(throws: LoaderError.self) { try await loader.loadPhoton(at: odd) }
                #expect(oddError.message.contains("'protocol'"))
            }
        }
    }
}
