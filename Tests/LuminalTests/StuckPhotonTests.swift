#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
@testable import LuminalWorker
import Testing

extension Supervisor {
    /// Photons that answer pings while none of their calls is answered.
    @Suite struct StuckPhotons {
        /// A Python photon whose method `block` holds its thread for good (it ignores its cancel).
        static let stuckPhoton = """
            import threading
            stuck = Photon("stuck", kinds=["IPhoton"])
            forever = threading.Event()

            @stuck.method()
            def block(params, ctx):
                forever.wait()

            @stuck.method()
            def echo(params, ctx):
                return params

            run(stuck)
            """

        /// Writes the package `stuck` with `manifest`'s extra keys; returns its path.
        static func package(_ folder: PhotonFolder, _ keys: String) -> String {
            folder.write("stuck/photon.json", #"{"exec": "photon.py", \#(keys)}"#)
            folder.python("stuck/photon.py", stuckPhoton)
            return Paths.join(folder.path, "stuck")
        }

        @Test func aPhotonWhoseThreadsAreAllBlockedIsUnresponsiveAndItsCallsTimeOutByDefault() async throws {
            let supervisor = try await SupervisedFolder { _ = Self.package($0, #""timeouts": {"call": 1}"#) }
            // Eight calls with no --timeout take the eight method threads; each fails at the manifest's default.
            let blocked = try (0..<8).map { _ in try CommandProcess(["call", "stuck", "block", "--json", "--control", supervisor.control]) }
            for call in blocked {
                let status = try await call.finish()
                #expect(status == .exited(code: 1), "\(call.lines)")
                #expect(try JSONValue.parse(call.output.joined(separator: "\n"))["error"]?["details"]?["loaderCode"] == "timeout", "\(call.lines)")
            }
            var photon: JSONValue?
            try await waitUntil("status showing stuck unresponsive") {
                photon = try? await supervisor.client("status", "--json", "stuck").json()[0]
                return photon?["state"] == "unresponsive"
            }
            #expect(photon?["unresponsive"] == true && photon?["healthy"] == false, "\(String(describing: photon))")
            #expect(try await supervisor.client("status", "--check").code == 3)
            let metrics = try await supervisor.client("metrics").output
            #expect(metrics.contains { $0.hasPrefix("luminal_photon_unresponsive{") && $0.hasSuffix(" 1") }, "\(metrics.filter { $0.contains("unresponsive") })")
            // A ninth call waits for a thread: the runtime says so in the photon's log.
            let waiting = try CommandProcess(["call", "stuck", "echo", "9", "--json", "--control", supervisor.control])
            try await supervisor.run.line { $0.contains("[stuck]") && $0.contains("all 8 method threads are busy") && $0.contains("call 'echo'") }
            #expect(try await waiting.finish() == .exited(code: 1))
            try await supervisor.stop()
        }

        @Test func anUnresponsivePhotonIsReplacedAfterItsHealthBoundAndServesAgain() async throws {
            try await withLoader { loader, folder in
                let path = Self.package(folder, #""timeouts": {"call": 0.5}, "health": {"unresponsive": 1}"#)
                let events = EventLog(loader)
                let handler = try #require(try await loader.loadPhoton(at: path).first)
                try await handler.start()
                let pid = handler.pid
                for _ in 0..<CallResponsiveness.timeoutsInARow {
                    let call = await outcome { () async throws(LoaderError) -> JSONValue in try await handler.call("block") }
                    #expect(call.failure?.code == .timeout, "\(call)")
                }
                _ = try await events.first("an unresponsive event") { event in
                    if case .unresponsive(path, ["stuck"], pid) = event { return true }
                    return nil
                }
                let failure = try await events.first("the failure that replaces it") { event in
                    if case .failed(path, let failure, _, _) = event { return failure }
                    return nil
                }
                #expect(failure == .unresponsive)
                _ = try await events.first("the restart") { event in
                    if case .restarted(path, _, _) = event { return true }
                    return nil
                }
                #expect(handler.pid != pid && !isAlive(pid))
                #expect(try await handler.call("echo", params: 5) == 5)
                #expect(!handler.snapshot.unresponsive && handler.statusJSON["state"] == "started")
            }
        }
        @Test func theSwiftRuntimeSaysWhenAMethodBlocksItsReaderAndRunsOnPastItsCancel() async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                let handler = try #require(try await loader.loadPhoton(at: folder.chaos("spinner")).first)
                try await handler.start()
                let spin = await outcome { () async throws(LoaderError) -> JSONValue in try await handler.call("spin", timeout: .milliseconds(300)) }
                #expect(spin.failure?.code == .timeout, "\(spin)")
                let takeOver = try await events.log("blocked the thread reading requests")
                #expect(takeOver.stream == .stderr && takeOver.photons == ["spinner"])
                // The cancelled method spins on; once it has for the runtime's limit, the next call is told of it.
                try await waitUntil("the runtime saying the cancelled method runs on") {
                    let echoed = try await handler.call("echo", params: 1)
                    #expect(echoed == 1)
                    return events.events.contains { event in
                        if case .log(let line) = event { return line.text.contains("still running more than") }
                        return false
                    }
                }
            }
        }
    }
}
