@testable import Luminal
@testable import LuminalSystem
import LuminalWire
@testable import LuminalWorker
import Testing

/// The photon-file lifecycle as a pure function, table by table: no process, no clock.
@Suite struct LifecycleTransitions {
    typealias Lifecycle = FileLifecycle<String>
    typealias Effect = LifecycleEffect<String>

    static let t0 = ContinuousClock.now
    static let path = "/photons/alpha"

    static func photon(_ name: String) -> PhotonDescriptor {
        PhotonDescriptor(name: name, kinds: ["IPhoton"], methods: ["echo"])
    }

    /// A file whose generation 1 serves `names`, those in `started` started.
    static func serving(_ names: [String] = ["a"], started: Set<String> = ["a"], policy: RestartPolicy = RestartPolicy()) -> Lifecycle {
        var lifecycle = Lifecycle(path: path, policy: policy)
        _ = lifecycle.apply(.spawned(number: 1, connection: "g1", pid: 101, plain: false))
        _ = lifecycle.apply(.prepared(number: 1, photons: names))
        _ = lifecycle.apply(.serving(number: 1, photons: names.map(photon), started: started, checksum: "c1",
                                     policy: policy, restart: false, at: t0, random: 0.5))
        return lifecycle
    }

    /// Brings up generation `number` of `lifecycle` with `names` and switches to it.
    static func reload(_ lifecycle: inout Lifecycle, to number: Int, _ names: [String], started: Set<String>, restart: Bool = false) -> [Effect] {
        _ = lifecycle.apply(.spawned(number: number, connection: "g\(number)", pid: Int32(100 + number), plain: false))
        _ = lifecycle.apply(.prepared(number: number, photons: names))
        return lifecycle.apply(.serving(number: number, photons: names.map(photon), started: started, checksum: "c\(number)",
                                        policy: lifecycle.policy, restart: restart, at: t0 + .seconds(1), random: 0.5))
    }

    static func ended(_ lifecycle: inout Lifecycle, _ number: Int, _ ending: GenerationEnding, after: Duration = .seconds(1)) -> [Effect] {
        lifecycle.apply(.ended(number: number, ending: ending, at: t0 + after, random: 0.5))
    }

    /// A short name for each effect, to compare effects as a list.
    static func names(_ effects: [Effect]) -> [String] {
        effects.map { effect in
            switch effect {
            case .emit(let event): "emit \(Self.name(of: event))"
            case .log(let level, _): "log \(level)"
            case .closeToCalls(let connection): "close \(connection)"
            case .killTree(let connection): "kill \(connection)"
            case .sendStart(let connection, let photon): "start \(photon) on \(connection)"
            case .scheduleRestart(let delay): "restart after \(delay)"
            case .cancelRestart: "cancel restart"
            case .stop(let connection, let started): "stop \(connection) \(started)"
            case .refuse(let error): "refuse \(error.code.rawValue)"
            case .essentialLost: "essential lost"
            }
        }
    }

    static func name(of event: LoaderEvent) -> String {
        switch event {
        case .loaded: "loaded"
        case .crashed: "crashed"
        case .protocolFault: "protocolFault"
        case .killed: "killed"
        case .failed(_, _, let failures, let restartIn): "failed \(failures) \(restartIn.map { "\($0)" } ?? "never")"
        case .quarantined(_, _, let failures, _): "quarantined \(failures)"
        case .started(let photon, _): "started \(photon)"
        case .reloadStarted(_, let generation): "reloadStarted \(generation)"
        case .recycleFailed(_, _, let failures, let retryIn, _): "recycleFailed \(failures) \(retryIn)"
        case .reloadRolledBack(_, let step, _): "reloadRolledBack \(step.rawValue)"
        case .unresponsive(_, let photons, _): "unresponsive \(photons)"
        case .responsive(_, let photons, _): "responsive \(photons)"
        default: "other"
        }
    }

    @Test func loadingRegistersThePhotonsReadyAndReportsTheLoad() {
        var lifecycle = Lifecycle(path: Self.path, policy: RestartPolicy())
        #expect(lifecycle.nextGeneration == 1)
        #expect(lifecycle.apply(.spawned(number: 1, connection: "g1", pid: 101, plain: false)).isEmpty)
        #expect(lifecycle.generation(1)?.phase == .handshaking)
        #expect(lifecycle.apply(.prepared(number: 1, photons: ["a", "b"])).isEmpty)
        #expect(lifecycle.generation(1)?.phase == .comingUp)
        let effects = lifecycle.apply(.serving(number: 1, photons: [Self.photon("a"), Self.photon("b")], started: [], checksum: "c1",
                                               policy: RestartPolicy(), restart: false, at: Self.t0, random: 0.5))
        #expect(Self.names(effects) == ["log info", "emit loaded"])
        #expect(lifecycle.members == ["a", "b"])
        #expect(lifecycle.photons["a"]?.state == .ready)
        #expect(lifecycle.photons["b"]?.pid == 101)
        #expect(lifecycle.serving?.phase == .serving)
        #expect(lifecycle.nextGeneration == 2)
    }

    @Test func startTable() {
        // (state before, effects of startRequested, state after)
        let rows: [(PhotonState, [String], PhotonState)] = [
            (.ready, ["start a on g1"], .starting),
            (.starting, [], .starting),
            (.started, [], .started),
        ]
        for (before, effects, after) in rows {
            var lifecycle = Self.serving(started: before == .started ? ["a"] : [])
            if before == .starting { _ = lifecycle.apply(.startRequested(photon: "a")) }
            #expect(Self.names(lifecycle.apply(.startRequested(photon: "a"))) == effects, "from \(before)")
            #expect(lifecycle.photons["a"]?.state == after, "from \(before)")
        }
        var crashed = Self.serving(started: [])
        _ = Self.ended(&crashed, 1, .exited(.exited(code: 1)))
        #expect(Self.names(crashed.apply(.startRequested(photon: "a"))) == ["refuse unloaded"])
    }

    @Test func startFinishingTable() {
        var lifecycle = Self.serving(started: [])
        _ = lifecycle.apply(.startRequested(photon: "a"))
        #expect(Self.names(lifecycle.apply(.startFinished(photon: "a", number: 1, error: nil))) == ["log info", "emit started a"])
        #expect(lifecycle.photons["a"]?.state == .started)
        #expect(lifecycle.photons["a"]?.wantsToRun == true)

        var failing = Self.serving(started: [])
        _ = failing.apply(.startRequested(photon: "a"))
        let error = LoaderError(.photonError, "no")
        #expect(Self.names(failing.apply(.startFinished(photon: "a", number: 1, error: error))) == ["log error", "refuse photonError"])
        #expect(failing.photons["a"]?.state == .ready)
        // Asked to start, it is meant to run: the next generation starts it; a stop ends that.
        #expect(failing.photons["a"]?.wantsToRun == true)
        #expect(failing.photonsToStart(among: ["a"]) == ["a"])
        _ = failing.apply(.stopRequested(hold: true))
        _ = failing.apply(.stopFinished(exit: .exited(code: 0)))
        #expect(failing.photonsToStart(among: ["a"]).isEmpty)

        var crashing = Self.serving(started: [])
        _ = crashing.apply(.startRequested(photon: "a"))
        _ = Self.ended(&crashing, 1, .exited(.signaled(signal: 9, coreDumped: false)))
        #expect(Self.names(crashing.apply(.startFinished(photon: "a", number: 1, error: nil))) == ["refuse workerExited"])
        #expect(crashing.photons["a"]?.state == .crashed(.signaled(signal: 9, coreDumped: false)))
    }

    @Test func endingsOfTheServingGeneration() {
        let crash = ExitStatus.exited(code: 3)
        // (ending, policy mode, effects, photon state after)
        let rows: [(GenerationEnding, RestartPolicy.Mode, [String], PhotonState)] = [
            (.exited(crash), .onFailure, ["log error", "emit crashed", "kill g1", "log warning", "emit failed 1 0.0 seconds", "restart after 0.0 seconds"], .crashed(crash)),
            (.exited(.exited(code: 0)), .onFailure, ["log error", "emit crashed", "kill g1", "emit failed 1 never"], .crashed(.exited(code: 0))),
            (.exited(.exited(code: 0)), .always, ["log error", "emit crashed", "kill g1", "log warning", "emit failed 1 0.0 seconds", "restart after 0.0 seconds"], .crashed(.exited(code: 0))),
            (.exited(crash), .never, ["log error", "emit crashed", "kill g1", "emit failed 1 never"], .crashed(crash)),
            (.faulted("bad frame"), .onFailure, ["log error", "emit protocolFault", "emit killed", "kill g1", "log warning", "emit failed 1 0.0 seconds", "restart after 0.0 seconds"], .faulted(reason: "bad frame")),
            (.missedHeartbeat(.seconds(10)), .onFailure, ["log error", "emit killed", "kill g1", "log warning", "emit failed 1 0.0 seconds", "restart after 0.0 seconds"],
             .faulted(reason: "stopped answering heartbeats (no pong within 10.0 seconds)")),
            (.unresponsive(.seconds(30)), .onFailure, ["log error", "emit killed", "kill g1", "log warning", "emit failed 1 0.0 seconds", "restart after 0.0 seconds"],
             .faulted(reason: "stayed unresponsive for 30.0 seconds (health.unresponsive): its calls kept timing out")),
        ]
        for (ending, mode, effects, state) in rows {
            var lifecycle = Self.serving(policy: RestartPolicy(mode))
            #expect(Self.names(Self.ended(&lifecycle, 1, ending)) == effects, "\(ending) under \(mode)")
            #expect(lifecycle.photons["a"]?.state == state, "\(ending)")
            #expect(lifecycle.photons["a"]?.failure == ending.failureClass, "\(ending)")
            #expect(lifecycle.restartPending == effects.contains { $0.hasPrefix("restart") })
        }
    }

    @Test func aRestartStaysPendingUntilItsGenerationServesAndOnlyIdempotentCallsWaitForIt() {
        var lifecycle = Lifecycle(path: Self.path, policy: RestartPolicy())
        var descriptor = Self.photon("a")
        descriptor.methods = ["echo", "get"]
        descriptor.idempotent = ["get"]
        _ = lifecycle.apply(.spawned(number: 1, connection: "g1", pid: 101, plain: false))
        _ = lifecycle.apply(.prepared(number: 1, photons: ["a"]))
        _ = lifecycle.apply(.serving(number: 1, photons: [descriptor], started: ["a"], checksum: "c1",
                                     policy: RestartPolicy(), restart: false, at: Self.t0, random: 0.5))
        // Serving: a call that met generation 1's end waits for the end to be applied.
        #expect(lifecycle.awaitsRestart("a", method: "get", after: 1))
        #expect(!lifecycle.awaitsRestart("a", method: "echo", after: 1))
        _ = Self.ended(&lifecycle, 1, .exited(.exited(code: 3)))
        #expect(lifecycle.restartPending && lifecycle.awaitsRestart("a", method: "get", after: 1))
        // Due: still pending while its generation comes up.
        #expect(lifecycle.apply(.restartDue).isEmpty)
        #expect(lifecycle.restartPending && lifecycle.awaitsRestart("a", method: "get", after: 1))
        _ = lifecycle.apply(.spawned(number: 2, connection: "g2", pid: 102, plain: false))
        _ = lifecycle.apply(.prepared(number: 2, photons: ["a"]))
        _ = lifecycle.apply(.serving(number: 2, photons: [descriptor], started: ["a"], checksum: "c1",
                                     policy: RestartPolicy(), restart: true, at: Self.t0 + .seconds(2), random: 0.5))
        #expect(!lifecycle.restartPending && lifecycle.photons["a"]?.state == .started)
        #expect(!lifecycle.awaitsRestart("a", method: "get", after: 1))
        // A caller that looks only now, its restart done, sends its idempotent call again.
        #expect(lifecycle.retriesCall("a", method: "get", after: 1))
        #expect(!lifecycle.retriesCall("a", method: "echo", after: 1))
        // A held file is not restarted: nothing waits.
        _ = lifecycle.apply(.stopRequested(hold: true))
        #expect(!lifecycle.awaitsRestart("a", method: "get", after: 2))
        #expect(!lifecycle.retriesCall("a", method: "get", after: 1))
    }

    @Test func endingsTheSupervisorAskedForChangeNoPhoton() {
        let exit = ExitStatus.exited(code: 0)
        // A retiring generation: its photons moved on to generation 2.
        var retiring = Self.serving()
        _ = Self.reload(&retiring, to: 2, ["a"], started: ["a"])
        #expect(retiring.generation(1)?.phase == .retiring)
        #expect(Self.ended(&retiring, 1, .exited(exit)).isEmpty)
        #expect(retiring.photons["a"]?.state == .started)
        #expect(retiring.photons["a"]?.lastExit == nil)
        // A stopping generation: its exit is recorded, nothing restarts.
        var stopping = Self.serving()
        _ = stopping.apply(.stopRequested(hold: false))
        #expect(Self.ended(&stopping, 1, .exited(exit)).isEmpty)
        #expect(stopping.photons["a"]?.lastExit == exit)
        #expect(stopping.photons["a"]?.state == .stopping)
        // A generation coming up: only its tree is killed; the bring-up reports the failure.
        var comingUp = Self.serving()
        _ = comingUp.apply(.spawned(number: 2, connection: "g2", pid: 102, plain: false))
        #expect(Self.names(Self.ended(&comingUp, 2, .exited(.exited(code: 1)))) == ["kill g2"])
        #expect(comingUp.photons["a"]?.state == .started)
        // A second ending of the same generation is only an exit status.
        var twice = Self.serving()
        _ = Self.ended(&twice, 1, .faulted("torn frame"))
        #expect(Self.ended(&twice, 1, .exited(.signaled(signal: 9, coreDumped: false))).isEmpty)
        #expect(twice.photons["a"]?.lastExit == .signaled(signal: 9, coreDumped: false))
        #expect(twice.photons["a"]?.state == .faulted(reason: "torn frame"))
    }

    @Test func failuresBackOffThenQuarantineAndAStableGenerationResetsTheCount() {
        var policy = RestartPolicy()
        policy.jitter = 0
        policy.quarantineAfter = 4
        var lifecycle = Self.serving(policy: policy)
        var delays: [String] = []
        for number in 1...4 {
            let effects = Self.names(Self.ended(&lifecycle, number, .exited(.exited(code: 1))))
            delays.append(effects.last ?? "")
            #expect(lifecycle.apply(.restartDue).isEmpty)
            _ = Self.reload(&lifecycle, to: number + 1, ["a"], started: ["a"], restart: true)
        }
        #expect(delays == ["restart after 0.0 seconds", "restart after 0.1 seconds", "restart after 0.2 seconds", "restart after 300.0 seconds"])
        #expect(lifecycle.failures == 4)
        #expect(lifecycle.photons["a"]?.restarts == 4)
        // Generation 5 stayed up past stableAfter: its crash counts as the first again.
        let effects = Self.names(Self.ended(&lifecycle, 5, .exited(.exited(code: 1)), after: .seconds(60)))
        #expect(effects.last == "restart after 0.0 seconds")
        #expect(lifecycle.failures == 1)
    }

    @Test func quarantineShowsInThePhotonAndARestartFailureCountsAgain() {
        var policy = RestartPolicy()
        policy.quarantineAfter = 1
        var lifecycle = Self.serving(policy: policy)
        #expect(Self.names(Self.ended(&lifecycle, 1, .exited(.exited(code: 1)))).suffix(2) == ["emit quarantined 1", "restart after 300.0 seconds"])
        #expect(lifecycle.photons["a"]?.state == .quarantined(.runtimeCrash))
        #expect(Self.names(lifecycle.apply(.restartFailed(.handshakeTimeout, reason: "no hello", random: 0.5))).suffix(2) == ["emit quarantined 2", "restart after 300.0 seconds"])
        #expect(lifecycle.photons["a"]?.failure == .handshakeTimeout)
    }

    @Test func anEssentialFileThatCannotBeKeptRunningTellsTheHost() {
        var policy = RestartPolicy()
        policy.quarantineAfter = 2
        policy.essential = true
        var lifecycle = Self.serving(policy: policy)
        // A crash that is restarted is not a loss; the one that quarantines is.
        #expect(!Self.names(Self.ended(&lifecycle, 1, .exited(.exited(code: 1)))).contains("essential lost"))
        _ = lifecycle.apply(.restartDue)
        #expect(Self.names(lifecycle.apply(.restartFailed(.handshakeTimeout, reason: "no hello", random: 0.5))).suffix(2) == ["restart after 300.0 seconds", "essential lost"])
        // An ending the policy does not restart is one too; a file that is not essential tells no one.
        policy.mode = .never
        var never = Self.serving(policy: policy)
        let effects = Self.ended(&never, 1, .exited(.exited(code: 0)))
        #expect(Self.names(effects).last == "essential lost")
        guard case .essentialLost(let reason) = effects.last else { return }
        #expect(reason.contains(Self.path) && reason.contains("'never'"), "\(reason)")
        policy.essential = false
        var plain = Self.serving(policy: policy)
        #expect(!Self.names(Self.ended(&plain, 1, .exited(.exited(code: 0)))).contains("essential lost"))
    }

    @Test func reloadRetiresTheOldGenerationAndKeepsThePhotonsIdentity() {
        var lifecycle = Self.serving(["a", "gone"], started: ["a", "gone"])
        #expect(Self.names(lifecycle.apply(.reloadBegan)) == ["emit reloadStarted 1"])
        #expect(lifecycle.photonsToStart(among: ["a", "new"]) == ["a", "new"])
        let effects = Self.reload(&lifecycle, to: 2, ["a", "new"], started: ["a", "new"])
        // Each generation speaks for its own photons; one before its hello for the file's.
        #expect(lifecycle.photonNames(of: 1) == ["a", "gone"])
        #expect(lifecycle.photonNames(of: 2) == ["a", "new"])
        #expect(Self.names(effects) == ["close g1"])
        #expect(lifecycle.members == ["a", "new"])
        #expect(lifecycle.photons["a"]?.generation == 2)
        #expect(lifecycle.photons["a"]?.pid == 102)
        #expect(lifecycle.photons["gone"]?.state == .stopped)
        #expect(lifecycle.photons["new"]?.state == .started)
        #expect(lifecycle.photons["new"]?.wantsToRun == true) // a restart starts it again
        #expect((try? lifecycle.callTarget("a", method: "echo").get()) == "g2")
        #expect(lifecycle.apply(.removed(number: 1)).isEmpty)
        #expect(lifecycle.generations.map(\.number) == [2])
        _ = lifecycle.apply(.spawned(number: 3, connection: "g3", pid: 103, plain: false))
        #expect(lifecycle.photonNames(of: 3) == ["a", "new"])
    }

    @Test func aBringUpGivenUpOnLeavesItsNumberAndTheServingGenerationAlone() {
        var lifecycle = Self.serving()
        _ = lifecycle.apply(.spawned(number: 2, connection: "g2", pid: 102, plain: false))
        #expect(lifecycle.apply(.abandoned(number: 2)).isEmpty)
        #expect(Self.ended(&lifecycle, 2, .exited(.signaled(signal: 9, coreDumped: false))).isEmpty)
        _ = lifecycle.apply(.removed(number: 2))
        #expect(lifecycle.nextGeneration == 2)
        #expect(lifecycle.serving?.number == 1)
        #expect(lifecycle.photons["a"]?.state == .started)
    }

    @Test func aGenerationThatEndsBeforeItTakesOver() {
        // The first load is refused.
        var first = Lifecycle(path: Self.path, policy: RestartPolicy())
        _ = first.apply(.spawned(number: 1, connection: "g1", pid: 101, plain: false))
        _ = Self.ended(&first, 1, .exited(.exited(code: 2)))
        let refused = first.apply(.serving(number: 1, photons: [Self.photon("a")], started: [], checksum: "c1",
                                           policy: RestartPolicy(), restart: false, at: Self.t0, random: 0.5))
        #expect(Self.names(refused) == ["refuse workerExited"])
        #expect(first.members.isEmpty)
        // A reload takes over and at once handles the ending as a crash of the serving generation.
        var reloaded = Self.serving()
        _ = reloaded.apply(.spawned(number: 2, connection: "g2", pid: 102, plain: false))
        _ = reloaded.apply(.prepared(number: 2, photons: ["a"]))
        _ = Self.ended(&reloaded, 2, .exited(.exited(code: 2)))
        let effects = reloaded.apply(.serving(number: 2, photons: [Self.photon("a")], started: ["a"], checksum: "c2",
                                              policy: RestartPolicy(), restart: false, at: Self.t0, random: 0.5))
        #expect(Self.names(effects).prefix(3) == ["close g1", "log error", "emit crashed"])
        #expect(reloaded.photons["a"]?.state == .crashed(.exited(code: 2)))
    }

    @Test func stopHoldsTheFileUntilItIsRevived() {
        var lifecycle = Self.serving()
        #expect(Self.names(lifecycle.apply(.stopRequested(hold: true))) == ["cancel restart", "close g1", "stop g1 [\"a\"]"])
        #expect(lifecycle.photons["a"]?.state == .stopping)
        #expect(Self.ended(&lifecycle, 1, .exited(.exited(code: 0))).isEmpty)
        _ = lifecycle.apply(.stopFinished(exit: .exited(code: 0)))
        #expect(lifecycle.photons["a"]?.state == .stopped)
        #expect(lifecycle.photons["a"]?.wantsToRun == false)
        #expect(lifecycle.allFinal)
        #expect(Self.names(lifecycle.apply(.restartDue)) == ["refuse notStarted"])
        #expect(Self.names(lifecycle.apply(.revived)) == ["cancel restart"])
        #expect(!lifecycle.held)
        // Meant to run again: the next generation starts it, even one that comes after a failed one.
        #expect(lifecycle.photonsToStart(among: ["a"]) == ["a"])
        #expect(lifecycle.apply(.restartDue).isEmpty)
    }

    @Test func callsGoOnlyToAStartedPhotonOfAProtocolWorker() {
        var lifecycle = Self.serving(["a", "b"], started: ["a"])
        #expect((try? lifecycle.callTarget("a", method: "echo").get()) == "g1")
        #expect(Self.code(lifecycle.callTarget("b", method: "echo")) == .notStarted)
        _ = lifecycle.apply(.stopRequested(hold: false))
        #expect(Self.code(lifecycle.callTarget("a", method: "echo")) == .unloaded)
        var plain = Lifecycle(path: Self.path, policy: RestartPolicy())
        _ = plain.apply(.spawned(number: 1, connection: "g1", pid: 101, plain: true))
        _ = plain.apply(.serving(number: 1, photons: [Self.photon("p")], started: ["p"], checksum: "c1",
                                 policy: RestartPolicy(), restart: false, at: Self.t0, random: 0.5))
        #expect(Self.code(plain.callTarget("p", method: "echo")) == .noProtocol)
    }

    @Test func aPolicySetThroughTheAPISurvivesAReload() {
        var lifecycle = Self.serving()
        _ = lifecycle.apply(.policySet(RestartPolicy(.never)))
        _ = Self.reload(&lifecycle, to: 2, ["a"], started: ["a"])
        #expect(lifecycle.policy.mode == .never)
    }

    @Test func failedRecyclingsBackOffAsRestartsDoAndAServingGenerationResetsThem() {
        var policy = RestartPolicy()
        policy.jitter = 0
        policy.quarantineAfter = 4
        var lifecycle = Self.serving(policy: policy)
        let error = LoaderError(.handshakeTimeout, "no hello", file: Self.path)
        // Number of the failure in a row → what is reported and when the next attempt may come.
        let table: [(failures: Int, effects: [String], heldFor: Duration)] = [
            (1, ["log warning", "emit recycleFailed 1 0.0 seconds"], .zero),
            (2, ["log warning", "emit recycleFailed 2 0.1 seconds"], .milliseconds(100)),
            (3, ["log warning", "emit recycleFailed 3 0.2 seconds"], .milliseconds(200)),
            (4, ["log error", "emit recycleFailed 4 300.0 seconds"], .seconds(300)),
        ]
        for row in table {
            let now = Self.t0 + .seconds(row.failures)
            let effects = lifecycle.apply(.recycleFailed(number: 1, error: error, at: now, random: 0.5))
            #expect(Self.names(effects) == row.effects, "failure \(row.failures)")
            #expect(lifecycle.recycleFailures == row.failures && lifecycle.recycleHeldUntil == now + row.heldFor, "failure \(row.failures)")
        }
        // A failure reported for a generation that no longer serves changes nothing.
        #expect(lifecycle.apply(.recycleFailed(number: 7, error: error, at: Self.t0, random: 0.5)).isEmpty)
        _ = Self.reload(&lifecycle, to: 2, ["a"], started: ["a"])
        #expect(lifecycle.recycleFailures == 0 && lifecycle.recycleHeldUntil == nil)
    }

    @Test func aGenerationComingUpThatBreaksTheProtocolIsNamedByItsPhotons() {
        var lifecycle = Self.serving(["a"])
        _ = lifecycle.apply(.spawned(number: 2, connection: "g2", pid: 102, plain: false))
        _ = lifecycle.apply(.prepared(number: 2, photons: ["a", "b"]))
        let effects = Self.ended(&lifecycle, 2, .faulted("bad frame"))
        let named = effects.compactMap { effect -> [String]? in
            if case .emit(.protocolFault(_, let photons, _, _)) = effect { photons } else { nil }
        }
        #expect(named == [["a", "b"]])
        #expect(lifecycle.servingNumber == 1 && lifecycle.photons["a"]?.state == .started)
    }

    @Test func failedReloadsAreKeptBesideTheServingGenerationUntilOneTakesOver() {
        var lifecycle = Self.serving()
        // Step and time of each failed reload in a row → the record status shows.
        let table: [(step: ReloadStep, after: Duration, failures: Int)] = [
            (.resolve, .seconds(1), 1),
            (.handshake, .seconds(5), 2),
            (.start, .seconds(9), 3),
        ]
        for row in table {
            let effects = lifecycle.apply(.reloadFailed(step: row.step, reason: "broken \(row.failures)", at: Self.t0 + row.after))
            #expect(Self.names(effects) == ["log error", "emit reloadRolledBack \(row.step.rawValue)"], "failure \(row.failures)")
            #expect(lifecycle.reloadFailure == ReloadFailure(step: row.step, reason: "broken \(row.failures)", failures: row.failures,
                                                             since: Self.t0 + .seconds(1)), "failure \(row.failures)")
            #expect(lifecycle.servingNumber == 1 && lifecycle.photons["a"]?.state == .started)
        }
        #expect(lifecycle.snapshot(of: "a", at: Self.t0 + .seconds(11))?.reloadFailingFor == .seconds(10))
        _ = Self.reload(&lifecycle, to: 2, ["a"], started: ["a"])
        #expect(lifecycle.reloadFailure == nil)
        #expect(lifecycle.snapshot(of: "a", at: Self.t0 + .seconds(11))?.reloadFailure == nil)
    }

    @Test func aFailedReloadIsNotShownOnceNothingServes() {
        var lifecycle = Self.serving()
        _ = lifecycle.apply(.reloadFailed(step: .resolve, reason: "broken", at: Self.t0))
        #expect(lifecycle.snapshot(of: "a", at: Self.t0)?.reloadFailure?.step == .resolve)
        _ = lifecycle.apply(.stopRequested(hold: true))
        _ = lifecycle.apply(.stopFinished(exit: .exited(code: 0)))
        #expect(lifecycle.photons["a"]?.state == .stopped)
        #expect(lifecycle.snapshot(of: "a", at: Self.t0)?.reloadFailure == nil)
    }

    @Test func aFailedReloadIsOverOnceTheDiskIsBackToTheVersionServing() {
        var lifecycle = Self.serving()
        #expect(lifecycle.apply(.servingVersionOnDisk).isEmpty)
        _ = lifecycle.apply(.reloadFailed(step: .resolve, reason: "broken", at: Self.t0))
        #expect(Self.names(lifecycle.apply(.servingVersionOnDisk)) == ["log info"])
        #expect(lifecycle.reloadFailure == nil && lifecycle.servingNumber == 1 && lifecycle.photons["a"]?.state == .started)
        #expect(lifecycle.apply(.servingVersionOnDisk).isEmpty)
    }

    @Test func aServingGenerationIsReportedUnresponsiveOnceAndResponsiveAgainOnce() {
        var lifecycle = Self.serving(["a", "b"], started: ["a", "b"])
        // (event, effects, unresponsive after)
        let rows: [(LifecycleEvent<String>, [String], Bool)] = [
            (.unresponsive(number: 1, timeouts: 3), ["log warning", "emit unresponsive [\"a\", \"b\"]"], true),
            (.unresponsive(number: 1, timeouts: 4), [], true),
            (.responsive(number: 1), ["log info", "emit responsive [\"a\", \"b\"]"], false),
            (.responsive(number: 1), [], false),
            (.unresponsive(number: 9, timeouts: 3), [], false),
        ]
        for (event, effects, unresponsive) in rows {
            #expect(Self.names(lifecycle.apply(event)) == effects, "\(event)")
            #expect(lifecycle.snapshot(of: "a", at: Self.t0)?.unresponsive == unresponsive, "\(event)")
        }
        // A generation coming up is not its photons' business until it serves.
        _ = lifecycle.apply(.spawned(number: 2, connection: "g2", pid: 102, plain: false))
        #expect(lifecycle.apply(.unresponsive(number: 2, timeouts: 3)).isEmpty)
        #expect(lifecycle.generation(2)?.unresponsive == true && lifecycle.snapshot(of: "a", at: Self.t0)?.unresponsive == false)
        // A photon shown unresponsive is not healthy, and status says so.
        _ = lifecycle.apply(.unresponsive(number: 1, timeouts: 3))
        let snapshot = lifecycle.snapshot(of: "a", at: Self.t0)
        #expect(snapshot?.isHealthy == false && snapshot?.stateText == "unresponsive" && snapshot?.state == .started)
    }

    static func code(_ result: Result<String, LoaderError>) -> LoaderError.Code? {
        if case .failure(let error) = result { return error.code }
        return nil
    }
}
