#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
@testable import LuminalWorker
import Testing

extension Supervisor {
    /// Calls to idempotent methods outlive a crash of their worker; poison calls do not loop.
    @Suite struct CrashRetries {
        func retried(_ events: EventLog) async throws -> Int {
            try await events.first("callRetried") { event in
                if case .callRetried(_, _, _, let generation) = event { return generation }
                return nil
            }
        }

        @Test func anIdempotentCallInFlightInACrashGetsTheNextGenerationsResult() async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                let handler = try #require(try await loader.loadPhoton(at: folder.chaos("c")).first)
                try await handler.start()
                let first = handler.pid
                let pid = try await handler.call("once", params: ["marker": .string(Paths.join(folder.path, "crashed")), "action": "crash"])
                #expect(pid == .int(Int64(handler.pid)) && handler.pid != first && handler.generation == 2)
                #expect(try await retried(events) == 2)
            }
        }

        /// Calls the idempotent `once` so that it hangs in the first generation, does `disrupt` to
        /// that worker's pid, and expects the call to return the pid of the generation after it.
        func hangingCallSurvives(_ disrupt: Int32, configuration: LoaderConfiguration = .fast) async throws {
            try await withLoader(configuration: configuration) { loader, folder in
                let events = EventLog(loader)
                let handler = try #require(try await loader.loadPhoton(at: folder.chaos("c")).first)
                try await handler.start()
                let call = Task { await outcome { () async throws(LoaderError) in
                    try await handler.call("once", params: ["marker": .string(Paths.join(folder.path, "hung")), "action": "hang"])
                } }
                let hung = try #require(try await events.photonEvent("hanging").intValue)
                kill(pid_t(hung), disrupt)
                let pid = try await call.value.get()
                #expect(pid == .int(Int64(handler.pid)) && pid != .int(hung))
                #expect(try await retried(events) == 2)
                #expect(handler.failureClass == (disrupt == SIGSTOP ? .healthCheckTimeout : .runtimeCrash))
            }
        }

        @Test func anIdempotentCallInFlightWhenTheWorkerIsKilledGetsTheNextGenerationsResult() async throws {
            try await hangingCallSurvives(SIGKILL)
        }

        @Test func anIdempotentCallInFlightWhenTheHeartbeatKillsTheWorkerGetsTheNextGenerationsResult() async throws {
            var configuration = LoaderConfiguration.fast
            configuration.health = HealthCheck(interval: .milliseconds(100), timeout: .seconds(1))
            // A stopped worker answers no ping: the heartbeat kills it.
            try await hangingCallSurvives(SIGSTOP, configuration: configuration)
        }

        @Test func aCallThatCrashesTwoGenerationsIsAPoisonCallAndIsNotSentAgain() async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                let handler = try #require(try await loader.loadPhoton(at: folder.chaos("c")).first)
                try await handler.start()
                let error = try await #require(throws: LoaderError.self) { try await handler.call("crash-always") }
                #expect(error.code == .poisonCall)
                #expect(error.message.contains("photon c") && error.message.contains(handler.filePath) && error.message.contains("'crash-always'"), "\(error.message)")
                _ = try await events.first("poisonCall") { event in
                    if case .poisonCall(let file, "c", "crash-always") = event, file == handler.filePath { return true }
                    return nil
                }
                // The third generation serves, and the poison call never reached it.
                _ = try await events.first("generation 3") { event in
                    if case .restarted(_, 3, _) = event { return true }
                    return nil
                }
                #expect(try await handler.call("pid") == .int(Int64(handler.pid)))
                try await events.catchUp(with: loader)
                #expect(events.events.filter { if case .crashed = $0 { true } else { false } }.count == 2)
            }
        }

        @Test func anIdempotentCallMadeWhileThePhotonRestartsWaitsForIt() async throws {
            var configuration = LoaderConfiguration.fast
            configuration.restart.initialDelay = .seconds(1) // the second crash leaves a window
            try await withLoader(configuration: configuration) { loader, folder in
                let events = EventLog(loader)
                let handler = try #require(try await loader.loadPhoton(at: folder.chaos("c")).first)
                try await handler.start()
                _ = try? await handler.call("crash", params: ["exit": 3])
                _ = try await events.first("restarted") { event in
                    if case .restarted(_, 2, _) = event { return true }
                    return nil
                }
                _ = try? await handler.call("crash", params: ["exit": 3])
                _ = try await events.first("second failure") { event in
                    if case .failed(_, _, 2, _) = event { return true }
                    return nil
                }
                // A method not declared idempotent fails at once, as it always did.
                let refused = try await #require(throws: LoaderError.self) { try await handler.call("echo", params: 1) }
                #expect(refused.code == .unloaded)
                #expect(try await handler.call("pid") == .int(Int64(handler.pid)))
                #expect(handler.generation == 3)
            }
        }

        @Test func aPythonMethodDeclaredIdempotentIsRetriedAfterACrash() async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                let marker = Paths.join(folder.path, "crashed")
                let file = folder.python("p.py", """
                    import os
                    p = Photon('p')
                    @p.method(idempotent=True)
                    def once(params, ctx):
                        try:
                            os.close(os.open('\(marker)', os.O_CREAT | os.O_EXCL | os.O_WRONLY))
                        except FileExistsError:
                            return os.getpid()
                        os.abort()
                    run(p)
                    """)
                let handler = try #require(try await loader.loadPhoton(at: file, base: nil).first)
                try await handler.start()
                #expect(try await handler.call("once") == .int(Int64(handler.pid)))
                #expect(try await retried(events) == 2)
            }
        }
    }
}
