#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
import LuminalWire
@testable import LuminalWorker
import Testing

extension Supervisor {
    /// A worker that crashes or breaks the protocol fails its own calls clearly; the host and the
    /// other photons carry on.
    @Suite struct Failures {
        /// Loads a bystander and a victim, both started.
        func pair(_ loader: Loader, _ folder: PhotonFolder) async throws -> (Handler, Handler) {
            let bystander = try #require(try await loader.loadPhoton(at: folder.chaos("bystander")).first)
            let victim = try #require(try await loader.loadPhoton(at: folder.chaos("victim")).first)
            try await bystander.start()
            try await victim.start()
            return (bystander, victim)
        }

        @Test func crashFailsInFlightCallsAndIsRecorded() async throws {
            try await withLoader(configuration: .fastWithoutRestarts) { loader, folder in
                let events = EventLog(loader)
                let (bystander, victim) = try await pair(loader, folder)
                async let waiting = outcome { () async throws(LoaderError) in try await victim.call("hang") }
                try await waitUntil("hang in flight") { victim.pendingRequests > 0 }
                let error = try await #require(throws: LoaderError.self) { try await victim.call("crash") }
                #expect(error.code == .workerExited)
                guard case .signaled(SIGABRT, _)? = error.exit else { Issue.record("exit was \(String(describing: error.exit))"); return }
                #expect(error.message.contains("victim"))
                guard case .failure(let hung) = await waiting else { Issue.record("hang returned"); return }
                #expect(hung.code == .workerExited)
                #expect(victim.state == .crashed(error.exit!))
                #expect(victim.lastExit == error.exit)
                let crash = try await events.first("crashed event") { event in
                    if case .crashed(let file, let photons, _, let exit) = event { return (file, photons, exit) }
                    return nil
                }
                #expect(crash.0 == victim.filePath)
                #expect(crash.1 == ["victim"])
                #expect(try await bystander.call("echo", params: 1) == 1)
                let after = try await #require(throws: LoaderError.self) { try await victim.call("echo") }
                #expect(after.code == .unloaded)
                let outcome = try await loader.unloadPhoton(victim)
                #expect(outcome.ending == .alreadyEnded)
            }
        }

        @Test func exitCodeIsReported() async throws {
            try await withLoader(configuration: .fastWithoutRestarts) { loader, folder in
                let (_, victim) = try await pair(loader, folder)
                let error = try await #require(throws: LoaderError.self) { try await victim.call("crash", params: ["exit": 42]) }
                #expect(error.exit == .exited(code: 42))
                #expect(error.message.contains("exit code 42"))
            }
        }

        /// Raw bytes a worker writes on fd 4 (then maybe closes it and keeps running), and the fault each must cause.
        static let faults: [(hex: String, close: Bool, reason: String)] = [
            ("", true, "closed protocol pipe"),
            ("0000", true, "truncated frame"),
            ("000000017b", false, "bad frame length"),
            ("7fffffff", false, "oversize frame"),
            ("00000004" + "6e6f7065", false, "invalid JSON"),              // nope
            ("00000002" + "c328", false, "invalid UTF-8"),
            ("00000002" + "5b5d", false, "invalid JSON"),                  // [] is not an object
            ("00000010" + "7b2274797065223a22776861743f227d", false, "invalid message"), // {"type":"what?"}
            ("00000024" + "7b2274797065223a22726573756c74222c226964223a3939392c2276616c7565223a307d", false, "unknown reply id"),
            ("00000010" + "7b2274797065223a2268656c6c6f227d", false, "invalid message"), // {"type":"hello"} lacks members
        ]

        @Test(.serialized, arguments: 0..<faults.count)
        func protocolFaultKillsOnlyThatWorker(index: Int) async throws {
            let (hex, close, reason) = Self.faults[index]
            try await withLoader(configuration: .fastWithoutRestarts) { loader, folder in
                let events = EventLog(loader)
                let (bystander, victim) = try await pair(loader, folder)
                let pid = victim.pid
                let error = try await #require(throws: LoaderError.self) { try await victim.call("raw", params: ["hex": .string(hex), "close": .bool(close)]) }
                #expect(error.code == .protocolFault)
                #expect(error.message.contains(reason))
                // The call's error names its photon and the file, as a photon's own error does.
                #expect(error.photon == victim.name && error.file == victim.filePath && error.message.hasPrefix("photon \(victim.name) (\(victim.filePath)) failed call 'raw'"), "\(error.message)")
                let fault = try await events.first("protocolFault event") { event in
                    if case .protocolFault(let file, _, _, let why) = event { return (file, why) }
                    return nil
                }
                #expect(fault.0 == victim.filePath)
                #expect(fault.1.hasPrefix(reason))
                guard case .faulted(let why) = victim.state else { Issue.record("state is \(victim.state)"); return }
                #expect(why.hasPrefix(reason))
                try await waitUntil("faulted worker reaped") { !exists(pid) }
                #expect(try await bystander.call("echo", params: "ok") == "ok")
            }
        }
    }
}
