#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
@testable import LuminalWorker
import Testing

extension Supervisor {
    @Suite struct Unload {
        @Test(.timeLimit(.minutes(1))) // without the abandonment the load would wait out its hour
        func unloadAllAbandonsLoadsInProgressSoNothingRegistersBehindIt() async throws {
            try await withLoader { loader, folder in
                // A plain executable that would count as started only after an hour.
                folder.write("slow/photon.json", #"{"exec": "run", "protocol": "none", "ready": 3600}"#)
                let path = folder.script("slow/run", "exec sleep 3600")
                let load = Task { () async throws(LoaderError) -> [Handler] in try await loader.loadPhoton(at: Paths.parent(path)) }
                let spawned = { await loader.records[Paths.parent(path)].load?.pool?.liveConnections.first?.pid }
                try await waitUntil("the load's worker spawned") { await spawned() != nil }
                let pid = try #require(await spawned())
                #expect(await loader.unloadAll().isEmpty)
                guard case .failure(let error) = await load.result else { Issue.record("the load succeeded"); return }
                #expect((error as? LoaderError)?.code == .exitedBeforeHello)
                #expect(await loader.photons.isEmpty)
                #expect(!exists(pid))
            }
        }

        @Test func gracefulUnloadRunsFinalizersAndEndsClean() async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                let handler = try #require(try await loader.loadPhoton(at: folder.chaos("alpha")).first)
                try await handler.start()
                let pid = handler.pid
                let outcome = try await loader.unloadPhoton(handler)
                #expect(outcome.ending == .clean)
                #expect(outcome.exit == .exited(code: 0))
                #expect(outcome.finalizerErrors.isEmpty)
                try await events.log("alpha finalizer ran")
                #expect(handler.state == .stopped)
                #expect(!exists(pid))
                #expect(await loader.photons.isEmpty)
                _ = try await events.first("stopped event") { event in
                    if case .stopped(let stopped) = event, stopped.photons == ["alpha"] { return true }
                    return nil
                }
            }
        }

        @Test func forceStopSkipsFinalizers() async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                let handler = try #require(try await loader.loadPhoton(at: folder.chaos("alpha")).first)
                try await handler.start()
                let outcome = try await loader.unloadPhoton(folder.path + "/alpha", forceStop: true)
                #expect(outcome.ending == .terminated)
                #expect(outcome.exit == .signaled(signal: SIGTERM, coreDumped: false))
                try await events.catchUp(with: loader)
                #expect(!events.events.contains { event in
                    if case .log(let line) = event { return line.text.contains("finalizer ran") }
                    return false
                })
            }
        }

        @Test func workerIgnoringSIGTERMIsKilledAfterTheKillTimeout() async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                let handler = try #require(try await loader.loadPhoton(at: folder.chaos("stubborn", mode: "ignore-term")).first)
                let outcome = try await loader.unloadPhoton(handler, forceStop: true)
                #expect(outcome.ending == .killed)
                #expect(outcome.exit == .signaled(signal: SIGKILL, coreDumped: false))
                _ = try await events.first("killed event") { event in
                    if case .killed(let file, _, _) = event, file.hasSuffix("stubborn") { return true }
                    return nil
                }
            }
        }

        @Test func hangingFinalizerIsCutOffByTheStopTimeout() async throws {
            try await withLoader { loader, folder in
                let handler = try #require(try await loader.loadPhoton(at: folder.chaos("sloth", mode: "slow-stop")).first)
                try await handler.start()
                let outcome = try await loader.unloadPhoton(handler)
                #expect(outcome.ending == .terminated)
                let error = outcome.finalizerErrors["sloth"] ?? ""
                #expect(error.contains("did not answer stop"))
                // The timeout is written to the millisecond, not as what was left of it to the nanosecond.
                let within = error.split(separator: "within ").last?.split(separator: " ").first ?? ""
                #expect(Double(within) != nil && (within.split(separator: ".").last?.count ?? 0) <= 3, "\(error)")
            }
        }

        @Test func inFlightCallsDrainBeforeAGracefulStop() async throws {
            try await withLoader { loader, folder in
                let handler = try #require(try await loader.loadPhoton(at: folder.chaos("alpha")).first)
                try await handler.start()
                async let slow = handler.call("sleep", params: ["ms": 300])
                // The call is in flight once the worker has it; unloading now must let it finish.
                try await waitUntil("call in flight") { handler.pendingRequests > 0 }
                let outcome = try await loader.unloadPhoton(handler)
                #expect(try await slow == "slept")
                #expect(outcome.ending == .clean)
                let late = try await #require(throws: LoaderError.self) { try await handler.call("echo") }
                #expect(late.code == .unloaded)
            }
        }

        @Test func unloadPhotonsUnloadsEachFileOnce() async throws {
            try await withLoader { loader, folder in
                let multi = try await loader.loadPhoton(at: folder.chaos("multi", mode: "multi", photon: "m"))
                let single = try await loader.loadPhoton(at: folder.chaos("single"))
                let outcomes = try await loader.unloadPhotons(multi + single)
                #expect(outcomes.count == 2)
                #expect(await loader.photons.isEmpty)
                let unknown = try await #require(throws: LoaderError.self) { try await loader.unloadPhotons(["single"]) }
                #expect(unknown.code == .photonNotFound)
            }
        }
    }
}
