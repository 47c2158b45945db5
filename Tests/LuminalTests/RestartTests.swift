#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
@testable import LuminalWorker
import Testing

@Suite struct RestartPolicyRules {
    @Test func firstFailureRestartsAtOnceThenBacksOffUpToTheCapThenQuarantines() {
        var policy = RestartPolicy()
        policy.initialDelay = .milliseconds(100)
        policy.maxDelay = .seconds(1)
        policy.quarantineAfter = 8
        #expect(policy.delay(afterFailures: 1, random: 0.9) == .zero)
        #expect(policy.delay(afterFailures: 2, random: 0.5) == .milliseconds(100))
        #expect(policy.delay(afterFailures: 3, random: 0.5) == .milliseconds(200))
        #expect(policy.delay(afterFailures: 5, random: 0.5) == .milliseconds(800))
        #expect(policy.delay(afterFailures: 6, random: 0.5) == .seconds(1))
        #expect(policy.delay(afterFailures: 7, random: 1) == .seconds(1))
        #expect(policy.delay(afterFailures: 8, random: 0.5) == nil)
        // Jitter spreads by at most ±20%.
        #expect(policy.delay(afterFailures: 3, random: 0) == .milliseconds(160))
        #expect(policy.delay(afterFailures: 3, random: 1) == .milliseconds(240))
    }

    @Test func modesDecideWhichEndingsRestart() {
        let crash = ExitStatus.signaled(signal: SIGSEGV, coreDumped: false), clean = ExitStatus.exited(code: 0)
        #expect(RestartPolicy(.always).restarts(after: clean))
        #expect(RestartPolicy(.always).restarts(after: crash))
        #expect(!RestartPolicy(.onFailure).restarts(after: clean))
        #expect(RestartPolicy(.onFailure).restarts(after: crash))
        #expect(RestartPolicy(.onFailure).restarts(after: nil)) // protocol fault
        #expect(!RestartPolicy(.never).restarts(after: crash))
    }
}

extension Supervisor {
    @Suite struct Restarts {
        func failures(_ events: EventLog) -> [(FailureClass, Int, Duration?)] {
            events.events.compactMap { event in
                if case .failed(_, let failure, let count, let restartIn) = event { return (failure, count, restartIn) }
                return nil
            }
        }

        @Test func firstCrashIsRestartedAtOnceAndTheHandlerLivesOn() async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                let alpha = try #require(try await loader.loadPhoton(at: folder.chaos("alpha")).first)
                try await alpha.start()
                let pid = alpha.pid
                _ = try? await alpha.call("crash", params: ["exit": 3])
                let restarted = try await events.first("restarted") { event in
                    if case .restarted(_, let generation, let restarts) = event { return (generation, restarts) }
                    return nil
                }
                #expect(restarted == (2, 1))
                #expect(failures(events).map(\.2) == [.zero])
                #expect(alpha.state == .started && alpha.pid != pid && alpha.restarts == 1)
                #expect(alpha.failureClass == .runtimeCrash)
                #expect(alpha.uptime != nil)
                #expect(try await alpha.call("echo", params: "back") == "back")
                #expect(await loader.photons["alpha"] === alpha)
            }
        }

        @Test func crashLoopBacksOffThenQuarantines() async throws {
            var configuration = LoaderConfiguration.fast
            configuration.restart.initialDelay = .milliseconds(20)
            configuration.restart.stableAfter = .seconds(3600)
            configuration.restart.quarantineAfter = 4
            try await withLoader(configuration: configuration) { loader, folder in
                let events = EventLog(loader)
                let alpha = try #require(try await loader.loadPhoton(at: folder.chaos("alpha")).first)
                try await alpha.start()
                folder.script("alpha", "exec '\(BuildProducts.chaosPhoton)' crash-on-start alpha")
                _ = try? await alpha.call("crash")
                let quarantined = try await events.first("quarantined") { event in
                    if case .quarantined(_, let failure, let count, _) = event { return (failure, count) }
                    return nil
                }
                #expect(quarantined == (.crashDuringStart, 4))
                let seen = failures(events)
                #expect(seen.map(\.0) == [.runtimeCrash, .crashDuringStart, .crashDuringStart])
                #expect(seen.map(\.1) == [1, 2, 3])
                let delays = seen.compactMap(\.2)
                #expect(delays.count == 3 && delays[0] == .zero && delays[0] < delays[1] && delays[1] < delays[2])
                #expect(alpha.state == .quarantined(.crashDuringStart))
                let call = try await #require(throws: LoaderError.self) { try await alpha.call("echo") }
                #expect(call.message.contains("quarantined"))
                // Nothing served while it was restarted, or started again: no reload rolled back.
                let start = try await #require(throws: LoaderError.self) { try await loader.startPhoton("alpha") }
                #expect(start.code != .reloadRolledBack && start.message.contains("start") && !start.message.contains("keeps serving"),
                        "\(start.message)")
                #expect(alpha.snapshot.reloadFailure == nil)
                #expect(!events.events.contains { event in
                    switch event {
                    case .reloadStarted, .reloadRolledBack: true
                    default: false
                    }
                })
                #expect(await loader.metrics().contains("luminal_file_reload_failed{file=\"\(alpha.filePath)\"} 0"))
            }
        }

        @Test func stableUptimeResetsTheFailureCount() async throws {
            var configuration = LoaderConfiguration.fast
            configuration.restart.stableAfter = .zero
            try await withLoader(configuration: configuration) { loader, folder in
                let events = EventLog(loader)
                let alpha = try #require(try await loader.loadPhoton(at: folder.chaos("alpha")).first)
                try await alpha.start()
                for round in 1...3 {
                    _ = try? await alpha.call("crash", params: ["exit": 1])
                    _ = try await events.satisfy("restart \(round)") { recorded in
                        recorded.filter { if case .restarted = $0 { true } else { false } }.count == round ? true : nil
                    }
                }
                #expect(failures(events).map(\.1) == [1, 1, 1])
                #expect(failures(events).map(\.2) == [.zero, .zero, .zero])
                #expect(alpha.restarts == 3 && alpha.generation == 4)
            }
        }

        @Test func cleanExitIsNotRestartedOnFailureButIsWithAlways() async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                folder.write("calm/photon.json", #"{"exec": "run", "args": ["serve", "calm"]}"#)
                folder.script("calm/run", "exec '\(BuildProducts.chaosPhoton)' \"$@\"")
                folder.write("eager/photon.json", #"{"exec": "run", "args": ["serve", "eager"], "restart": "always"}"#)
                folder.script("eager/run", "exec '\(BuildProducts.chaosPhoton)' \"$@\"")
                let handlers = try await loader.loadPhotons(in: folder.path)
                for handler in handlers {
                    try await handler.start()
                    _ = try? await handler.call("crash", params: ["exit": 0])
                }
                _ = try await events.first("eager restarted") { event in
                    if case .restarted(let file, _, _) = event, file.hasSuffix("eager") { return true }
                    return nil
                }
                let calm = try #require(await loader.photons["calm"])
                _ = try await events.first("calm not restarted") { event in
                    if case .failed(let file, _, _, nil) = event, file.hasSuffix("calm") { return true }
                    return nil
                }
                #expect(calm.state == .crashed(.exited(code: 0)))
            }
        }

        @Test func hungWorkerIsKilledByTheHeartbeatAndRestarted() async throws {
            var configuration = LoaderConfiguration.fast
            configuration.health = HealthCheck(interval: .milliseconds(100), timeout: .seconds(1))
            try await withLoader(configuration: configuration) { loader, folder in
                let events = EventLog(loader)
                let alpha = try #require(try await loader.loadPhoton(at: folder.chaos("alpha")).first)
                try await alpha.start()
                // Busy is not hung: a slow call does not stop pongs.
                #expect(try await alpha.call("sleep", params: ["ms": 500]) == "slept")
                let frozen = alpha.pid
                kill(frozen, SIGSTOP)
                let failure = try await events.first("health-check failure") { event in
                    if case .failed(_, let failure, _, _) = event { return failure }
                    return nil
                }
                #expect(failure == .healthCheckTimeout)
                _ = try await events.first("restarted") { event in
                    if case .restarted = event { return true }
                    return nil
                }
                #expect(alpha.failureClass == .healthCheckTimeout)
                #expect(!exists(frozen))
                #expect(try await alpha.call("echo", params: "awake") == "awake")
            }
        }

        @Test func manifestHealthIsChecked() async throws {
            try await withLoader { loader, folder in
                folder.write("sick/photon.json", #"{"exec": "run", "health": {"interval": 0}}"#)
                folder.script("sick/run", "exit 0")
                let error = try await #require(throws: LoaderError.self) { try await loader.loadPhoton(at: Paths.join(folder.path, "sick")) }
                #expect(error.message.contains("'health.interval'"))
            }
        }

        @Test func thousandCrashRestartCyclesLeaveNoZombieAndNoDescriptor() async throws {
            var configuration = LoaderConfiguration.fast
            configuration.restart.stableAfter = .zero // every crash is a first one: restarted at once
            try await withLoader(configuration: configuration) { loader, folder in
                let events = EventLog(loader)
                let phoenix = try #require(try await loader.loadPhoton(at: folder.chaos("phoenix")).first)
                try await phoenix.start()
                let pipes = supervisorPipeCount()
                for cycle in 1...1000 {
                    _ = try? await phoenix.call("crash", params: ["exit": 1])
                    _ = try await events.first("restart \(cycle)") { event in
                        if case .restarted(_, let generation, _) = event, generation == cycle + 1 { return true }
                        return nil
                    }
                }
                #expect(phoenix.restarts == 1000 && phoenix.state == .started)
                #expect(try await phoenix.call("echo", params: "alive") == "alive")
                #expect(supervisorPipeCount() == pipes)
                // Every child that exited is reaped (under load, the last ones a moment later).
                try await waitUntil("no zombie child") { Procfs.childPIDs(of: getpid()).allSatisfy { Procfs.stat($0)?.state != "Z" } }
            }
        }

        @Test func restartPolicyCanBeSetPerFileThroughTheAPI() async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                let alpha = try #require(try await loader.loadPhoton(at: folder.chaos("alpha")).first)
                try await alpha.start()
                try await loader.setRestartPolicy(RestartPolicy(.never), for: "alpha")
                _ = try? await alpha.call("crash", params: ["exit": 9])
                let restartIn = try await events.first("failed") { event -> Duration?? in
                    if case .failed(_, _, _, let restartIn) = event { return .some(restartIn) }
                    return nil
                }
                #expect(restartIn == nil)
                #expect(alpha.state == .crashed(.exited(code: 9)))
                let missing = try await #require(throws: LoaderError.self) { try await loader.setRestartPolicy(RestartPolicy(), for: "ghost") }
                #expect(missing.code == .photonNotFound)
            }
        }

        @Test func manifestRestartValueIsChecked() async throws {
            try await withLoader { loader, folder in
                folder.write("odd/photon.json", #"{"exec": "run", "restart": "sometimes"}"#)
                folder.script("odd/run", "exit 0")
                let error = try await #require(throws: LoaderError.self) { try await loader.loadPhoton(at: Paths.join(folder.path, "odd")) }
                #expect(error.code == .invalidManifest)
                #expect(error.message.contains("'restart'") && error.message.contains("on-failure"))
            }
        }
    }
}
