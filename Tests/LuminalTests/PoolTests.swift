#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
@testable import LuminalWorker
import Synchronization
import Testing

extension Supervisor {
    /// Photon files of several instances: calls routed by load, instances restarted and
    /// quarantined on their own, reloads rolled one batch at a time and rolled back whole.
    @Suite struct Pools {
        /// Writes package `name` running the chaos photon `name`, with `instances` in its manifest;
        /// `guardLine` goes before the exec (a shell line that may end the instance).
        @discardableResult
        static func package(_ folder: PhotonFolder, _ name: String, instances: String, guardLine: String = "") -> String {
            folder.write("\(name)/photon.json", #"{"exec": "run", "instances": \#(instances)}"#)
            folder.script("\(name)/run", "\(guardLine)\nexec '\(BuildProducts.chaosPhoton)' serve \(name)")
            return Paths.join(folder.path, name)
        }

        /// Loads and starts the photon file at `path`, whose pool scales, and keeps its first
        /// instance busy with a call that waits to be cancelled: the task that makes it.
        static func busyPool(_ loader: Loader, _ path: String) async throws -> (Handler, Task<JSONValue?, Never>) {
            let handler = try #require(try await loader.loadPhoton(at: path).first)
            try await handler.start()
            #expect(handler.pool.count == 1)
            let busy = Task { try? await handler.call("await-cancel") }
            try await waitUntil("the long call is in flight") { handler.pool.first.read { $0.serving?.connection.callsInFlight ?? 0 } > 0 }
            return (handler, busy)
        }

        /// Restarts at once, and quarantine after two failures in a row.
        static var quickQuarantine: LoaderConfiguration {
            var configuration = LoaderConfiguration.fast
            configuration.restart.initialDelay = .milliseconds(10)
            configuration.restart.quarantineAfter = 2
            return configuration
        }

        /// The pids of the serving workers of `handler`'s instances, in instance order.
        static func pids(_ handler: Handler) -> [Int32] {
            handler.pool.cores.compactMap { $0.read { $0.serving?.pid } }
        }

        @Test func eachInstanceIsAWorkerOfItsOwnAndKnowsItsNumber() async throws {
            try await withLoader { loader, folder in
                let path = Self.package(folder, "p", instances: "3")
                let handler = try #require(try await loader.loadPhoton(at: path).first)
                try await handler.start()
                #expect(handler.pool.count == 3)
                #expect(Set(Self.pids(handler)).count == 3)
                for core in handler.pool.cores {
                    let worker = try #require(core.read { $0.serving?.connection })
                    let environment = String(decoding: try Paths.read("/proc/\(worker.pid)/environ"), as: UTF8.self)
                    #expect(environment.split(separator: "\0").contains("LUMINAL_INSTANCE=\(core.instance)"))
                    #expect(core.read { $0.photons["p"]?.state } == .started)
                }
            }
        }

        @Test func aLoaderConfiguredWithImpossibleInstancesSaysSoAndRunsThemWithinBounds() async throws {
            var configuration = LoaderConfiguration.fast
            configuration.instances = PoolSize(count: 0, surge: 5)
            let lines = Mutex<[String]>([])
            try await withLoader(configuration: configuration, logSink: { record in lines.withLock { $0.append(record.message) } }) { loader, folder in
                try await waitUntil("the loader's warning") { !lines.withLock { $0 }.isEmpty }
                #expect(lines.withLock { $0 } == ["LoaderConfiguration.instances: 'instances' must be a whole number from 1 to 64, not 0; a file whose manifest says no 'instances' gets count 1, max 1, surge 1"])
                folder.script("p/run", "exec '\(BuildProducts.chaosPhoton)' serve p")
                folder.write("p/photon.json", #"{"exec": "run"}"#)
                let handler = try #require(try await loader.loadPhoton(at: Paths.join(folder.path, "p")).first)
                #expect(handler.pool.count == 1)
            }
        }

        @Test func statusAndMetricsShowEachInstance() async throws {
            try await withLoader { loader, folder in
                let path = Self.package(folder, "p", instances: "3")
                let handler = try #require(try await loader.loadPhoton(at: path).first)
                try await handler.start()
                #expect(handler.instances.map(\.instance) == [1, 2, 3])
                #expect(handler.instances.map(\.pid) == Self.pids(handler))
                #expect(handler.instances.allSatisfy { $0.state == .started && $0.generation == 1 && $0.callsInFlight == 0 })
                let metrics = await loader.metrics()
                let file = #"file="\#(path)""#
                #expect(metrics.contains("luminal_pool_instances{\(file)} 3\n"), "\(metrics.split(separator: "\n").filter { $0.contains("instance") })")
                for number in 1...3 {
                    #expect(metrics.contains(#"luminal_instance_up{\#(file),instance="\#(number)"} 1"# + "\n"))
                    #expect(metrics.contains(#"luminal_instance_calls_in_flight{\#(file),instance="\#(number)"} 0"# + "\n"))
                }
                #expect(metrics.contains("luminal_pool_busy_instances{\(file)} 0\n"))
                for _ in 0..<3 { _ = try await handler.call("pid") }
                // Three calls, one to each idle instance in turn.
                #expect(handler.instances.map(\.calls) == [1, 1, 1])
                let after = await loader.metrics()
                #expect(after.contains(#"luminal_instance_calls_total{\#(file),instance="3"} 1"# + "\n"))
            }
        }

        @Test func aCallGoesToTheInstanceWithTheFewestCallsInFlight() async throws {
            try await withLoader { loader, folder in
                let handler = try #require(try await loader.loadPhoton(at: Self.package(folder, "p", instances: "2")).first)
                try await handler.start()
                // One instance is held by a call that waits to be cancelled.
                let busy = Task { try? await handler.call("await-cancel") }
                defer { busy.cancel() }
                try await waitUntil("the long call is in flight") {
                    handler.pool.cores.contains { $0.read { $0.serving?.connection.callsInFlight ?? 0 } > 0 }
                }
                let held = try #require(handler.pool.cores.first { $0.read { $0.serving?.connection.callsInFlight ?? 0 } > 0 })
                let free = try #require(handler.pool.cores.first { $0 !== held }?.read { $0.serving?.pid })
                // Every call goes to the free one (round-robin would send every other one to the busy one).
                for _ in 0..<6 {
                    #expect(try await handler.call("pid") == .int(Int64(free)))
                }
            }
        }

        @Test func callsAreSharedAmongIdleInstances() async throws {
            try await withLoader { loader, folder in
                let handler = try #require(try await loader.loadPhoton(at: Self.package(folder, "p", instances: "3")).first)
                try await handler.start()
                var seen: Set<JSONValue> = []
                for _ in 0..<6 { seen.insert(try await handler.call("pid")) }
                #expect(seen == Set(Self.pids(handler).map { JSONValue.int(Int64($0)) }))
            }
        }

        @Test func anIdempotentCallCaughtInACrashIsRetriedOnAnotherInstanceAtOnce() async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                let handler = try #require(try await loader.loadPhoton(at: Self.package(folder, "p", instances: "2")).first)
                try await handler.start()
                let before = Self.pids(handler)
                let answer = try await handler.call("once", params: ["marker": .string(Paths.join(folder.path, "crashed")), "action": "crash"])
                // The other instance answered: its first generation, not a restarted one.
                let pid = try #require(answer.intValue)
                #expect(before.contains(Int32(pid)))
                let generation = try await events.first("callRetried") { event in
                    if case .callRetried(_, "p", "once", let generation) = event { return generation }
                    return nil
                }
                #expect(generation == 1)
            }
        }

        @Test func aCrashedInstanceIsRestartedAloneWhileTheOthersServe() async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                let handler = try #require(try await loader.loadPhoton(at: Self.package(folder, "p", instances: "2")).first)
                try await handler.start()
                let before = Self.pids(handler)
                kill(before[1], SIGKILL)
                _ = try await events.first("instance 2 restarted") { event in
                    if case .restarted(_, 2, _) = event { return true }
                    return nil
                }
                let after = Self.pids(handler)
                #expect(after[0] == before[0] && after[1] != before[1])
                #expect(handler.pool.cores[1].read { $0.photons["p"]?.state } == .started)
                #expect(handler.pool.cores[0].read { $0.serving?.number } == 1)
                var seen: Set<JSONValue> = []
                for _ in 0..<4 { seen.insert(try await handler.call("pid")) }
                #expect(seen.count == 2)
            }
        }

        @Test func anInstanceThatCrashesInALoopIsQuarantinedAndThePoolKeepsServing() async throws {
            try await withLoader(configuration: Self.quickQuarantine) { loader, folder in
                let broken = Paths.join(folder.path, "broken")
                let path = Self.package(folder, "p", instances: "2", guardLine: #"[ "$LUMINAL_INSTANCE" = 2 ] && [ -e '\#(broken)' ] && exit 3"#)
                let handler = try #require(try await loader.loadPhoton(at: path).first)
                try await handler.start()
                let first = Self.pids(handler)[0]
                folder.write("broken", "")
                kill(Self.pids(handler)[1], SIGKILL)
                try await waitUntil("instance 2 is quarantined") {
                    if case .quarantined? = handler.pool.cores[1].read({ $0.photons["p"]?.state }) { return true }
                    return false
                }
                #expect(handler.state == .started && handler.pid == first)
                #expect(try await handler.call("pid") == .int(Int64(first)))
                #expect(try await handler.call("pid") == .int(Int64(first)))
            }
        }

        @Test func aPoolWhoseEveryInstanceCrashesInALoopIsQuarantinedAndItsCallsFailNamingIt() async throws {
            try await withLoader(configuration: Self.quickQuarantine) { loader, folder in
                let broken = Paths.join(folder.path, "broken")
                let path = Self.package(folder, "p", instances: "2", guardLine: "[ -e '\(broken)' ] && exit 3")
                let handler = try #require(try await loader.loadPhoton(at: path).first)
                try await handler.start()
                folder.write("broken", "")
                for pid in Self.pids(handler) { kill(pid, SIGKILL) }
                try await waitUntil("every instance is quarantined") {
                    handler.instances.allSatisfy { if case .quarantined = $0.state { true } else { false } }
                }
                if case .quarantined = handler.state {} else { Issue.record("the photon is \(handler.state)") }
                let error = try await #require(throws: LoaderError.self) { try await handler.call("pid") }
                #expect(error.message.contains("photon p") && error.message.contains(path) && error.message.contains("quarantined"), "\(error.message)")
                // Mended, `start` brings every instance back.
                unlink(broken)
                try await loader.startPhoton("p")
                #expect(handler.instances.allSatisfy { $0.state == .started })
            }
        }

        @Test func anEssentialPoolIsLostOnlyOnceEveryInstanceIs() async throws {
            let lost = Mutex<[String]>([])
            var configuration = Self.quickQuarantine
            configuration.essentialLost = { file, reason in lost.withLock { $0.append("\(file): \(reason)") } }
            try await withLoader(configuration: configuration) { loader, folder in
                let broken = Paths.join(folder.path, "broken")
                let path = Self.package(folder, "p", instances: "2", guardLine: #"[ -e '\#(broken)' ] && [ -e "\#(folder.path)/broken$LUMINAL_INSTANCE" ] && exit 3"#)
                folder.write("p/photon.json", #"{"exec": "run", "instances": 2, "essential": true}"#)
                let handler = try #require(try await loader.loadPhoton(at: path).first)
                try await handler.start()
                folder.write("broken", "")
                folder.write("broken2", "")
                kill(Self.pids(handler)[1], SIGKILL)
                try await waitUntil("instance 2 is quarantined") {
                    if case .quarantined = handler.instances[1].state { true } else { false }
                }
                #expect(lost.withLock { $0 }.isEmpty)
                folder.write("broken1", "")
                kill(Self.pids(handler)[0], SIGKILL)
                try await waitUntil("the essential file is lost") { !lost.withLock { $0 }.isEmpty }
                #expect(lost.withLock { $0 }.first?.contains(path) == true)
            }
        }

        @Test func aRollingReloadReplacesEveryInstanceWithoutAFailedCall() async throws {
            try await withLoader { loader, folder in
                let path = Self.package(folder, "p", instances: #"{"count": 3, "surge": 1}"#)
                let handler = try #require(try await loader.loadPhoton(at: path).first)
                try await handler.start()
                let before = Self.pids(handler)
                let running = RunningFlag()
                let callers = (0..<4).map { _ in
                    Task { () -> [String] in
                        var failures: [String] = []
                        while running.isOn {
                            do { _ = try await handler.call("pid") } catch { failures.append("\(error)") }
                            running.countCall()
                        }
                        return failures
                    }
                }
                for round in 1...3 {
                    folder.script("p/run", "# version \(round)\nexec '\(BuildProducts.chaosPhoton)' serve p")
                    #expect(try await loader.reloadPhoton("p") == [handler])
                }
                running.turnOff()
                var failures: [String] = []
                for caller in callers { failures += await caller.value }
                #expect(failures.isEmpty && running.calls > 0, "\(failures.prefix(3))")
                #expect(handler.pool.cores.map { $0.read { $0.serving?.number } } == [4, 4, 4])
                #expect(Set(Self.pids(handler)).isDisjoint(with: before))
                for pid in before { #expect(!exists(pid)) }
            }
        }

        @Test func aReloadThatFailsInALaterInstanceRollsEveryInstanceBack() async throws {
            try await withLoader { loader, folder in
                let path = Self.package(folder, "p", instances: "3")
                let handler = try #require(try await loader.loadPhoton(at: path).first)
                try await handler.start()
                let before = Self.pids(handler)
                folder.script("p/run", #"[ "$LUMINAL_INSTANCE" = 3 ] && exit 3"# + "\nexec '\(BuildProducts.chaosPhoton)' serve p")
                let error = try await #require(throws: LoaderError.self) { try await loader.reloadPhoton("p") }
                #expect(error.code == .reloadRolledBack && error.step == .handshake)
                #expect(error.message.contains("instance 3") && error.message.contains(path), "\(error.message)")
                #expect(Self.pids(handler) == before)
                #expect(handler.pool.cores.allSatisfy { $0.read { $0.serving?.number == 1 && $0.photons["p"]?.state == .started } })
                var seen: Set<JSONValue> = []
                for _ in 0..<6 { seen.insert(try await handler.call("pid")) }
                #expect(seen == Set(before.map { JSONValue.int(Int64($0)) }))
                #expect(handler.snapshot.reloadFailure?.step == .handshake)
                // The instances that had taken over are gone.
                try await waitUntil("only the old workers are left") {
                    handler.pool.cores.allSatisfy { $0.read { $0.generations.count == 1 } }
                }
            }
        }

        @Test func anInstanceWhoseOldWorkerEndedDuringARollThatFailsIsNotLeftOnTheNewVersion() async throws {
            try await withLoader(configuration: Self.quickQuarantine) { loader, folder in
                let events = EventLog(loader)
                let path = Self.package(folder, "p", instances: "3")
                let handler = try #require(try await loader.loadPhoton(at: path).first)
                try await handler.start()
                let before = Self.pids(handler)
                // The new version's third instance fails once told to, so the roll waits for it.
                let go = Paths.join(folder.path, "go")
                folder.script("p/run", "[ \"$LUMINAL_INSTANCE\" = 3 ] && { while [ ! -e '\(go)' ]; do sleep 0.05; done; exit 3; }\nexec '\(BuildProducts.chaosPhoton)' serve p")
                let reload = Task { () async throws(LoaderError) -> [Handler] in try await loader.reloadPhoton("p") }
                try await waitUntil("instances 1 and 2 rolled") {
                    handler.pool.cores.prefix(2).allSatisfy { $0.read { $0.serving?.number == 2 } }
                }
                // Instance 1's old worker, parked until the roll is over, dies meanwhile.
                kill(before[0], SIGKILL)
                try await waitUntil("the old worker is gone") { !isAlive(before[0]) }
                folder.write("go", "")
                guard case .failure(let error) = await reload.result else { Issue.record("the reload succeeded"); return }
                #expect((error as? LoaderError)?.code == .reloadRolledBack)
                // Instances 2 and 3 serve their old workers; instance 1 is not restarted from the
                // rejected version on disk.
                #expect(Array(Self.pids(handler).suffix(2)) == Array(before.suffix(2)))
                // Its restarts are refused (the version on disk is not the pool's) until it is quarantined.
                _ = try await events.first("instance 1 quarantined") { event in
                    if case .quarantined(path, _, _, _) = event { return true }
                    return nil
                }
                if case .quarantined = handler.instances[0].state {} else { Issue.record("instance 1 is \(handler.instances[0].state)") }
                var seen: Set<JSONValue> = []
                for _ in 0..<4 { seen.insert(try await handler.call("pid")) }
                #expect(seen == Set(before.suffix(2).map { JSONValue.int(Int64($0)) }))
            }
        }

        @Test func aRollGoesNoFurtherOnceEveryPhotonIsBeingUnloaded() async throws {
            try await withLoader { loader, folder in
                let path = Self.package(folder, "p", instances: "3")
                let handler = try #require(try await loader.loadPhoton(at: path).first)
                try await handler.start()
                // The new version's second instance says hello once told to.
                let go = Paths.join(folder.path, "go")
                folder.script("p/run", "[ \"$LUMINAL_INSTANCE\" = 2 ] && while [ ! -e '\(go)' ]; do sleep 0.05; done\nexec '\(BuildProducts.chaosPhoton)' serve p")
                let reload = Task { () async throws(LoaderError) -> [Handler] in try await loader.reloadPhoton("p") }
                try await waitUntil("instance 1 rolled") { handler.pool.first.read { $0.serving?.number == 2 } }
                let mark = loader.context.hashes.mark
                let unload = Task { await loader.unloadAll() }
                try await waitUntil("the unload began") { loader.context.hashes.isCancelled(since: mark) }
                folder.write("go", "")
                // The instance coming up is killed with the loads in progress, or the roll stops
                // before the next batch: either way it rolls back.
                guard case .failure(let error) = await reload.result else { Issue.record("the reload succeeded"); return }
                #expect((error as? LoaderError)?.code == .reloadRolledBack, "\(error)")
                // Instance 3 was never brought up, and nothing is left.
                #expect(handler.pool.cores[2].read { $0.generations.allSatisfy { $0.number == 1 } })
                _ = await unload.value
                #expect(await loader.photons.isEmpty)
                try await waitUntil("no worker is left") { loader.context.liveWorkers.isEmpty }
            }
        }

        @Test func aReloadFollowsTheManifestsNewCount() async throws {
            try await withLoader { loader, folder in
                let path = Self.package(folder, "p", instances: "2")
                let handler = try #require(try await loader.loadPhoton(at: path).first)
                try await handler.start()
                // Three at a time: the new instances 3 and 4 come up beside the replacement of 1.
                folder.write("p/photon.json", #"{"exec": "run", "instances": {"count": 4, "surge": 3}}"#)
                try await loader.reloadPhoton("p")
                #expect(handler.pool.count == 4)
                #expect(handler.pool.cores.allSatisfy { $0.read { $0.photons["p"]?.state == .started } })
                #expect(Set(Self.pids(handler)).count == 4)
                folder.write("p/photon.json", #"{"exec": "run", "instances": 1}"#)
                try await loader.reloadPhoton("p")
                #expect(handler.pool.count == 1 && handler.pool.cores[0].instance == 1)
                #expect(try await handler.call("pid") == .int(Int64(handler.pid)))
                try await waitUntil("the dropped instances stopped") { loader.context.liveWorkers.count == 1 }
            }
        }

        @Test func aPoolThatScalesGrowsWhenCallsFindEveryInstanceBusyKeepsItsCountOverAReloadAndShrinksAfterItsLinger() async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                let path = Self.package(folder, "p", instances: #"{"min": 1, "max": 3, "linger": 1}"#)
                let (handler, busy) = try await Self.busyPool(loader, path)
                defer { busy.cancel() }
                // This call finds the only instance busy: one more comes up.
                #expect(try await handler.call("pid") == .int(Int64(handler.pool.cores[0].read { $0.serving?.pid ?? 0 })))
                let added = try await events.first("scaled up to 2") { event in
                    if case .scaled(path, 2, 2, let pid, _) = event { return pid }
                    return nil
                }
                let second = try #require(handler.pool.cores.last?.read { $0.serving?.pid })
                #expect(added == second)
                #expect(handler.pool.count == 2 && handler.pool.cores[1].instance == 2)
                #expect(try await handler.call("pid") == .int(Int64(second)))
                // A reload keeps the count the pool scaled to.
                folder.script("p/run", "# edited\nexec '\(BuildProducts.chaosPhoton)' serve p")
                try await loader.reloadPhoton("p")
                #expect(handler.pool.count == 2)
                let spare = try #require(handler.pool.cores.last?.read { $0.serving?.pid })
                busy.cancel()
                let stopped = try await events.first("scaled down to 1") { event in
                    if case .scaled(path, 1, 2, let pid, _) = event { return pid }
                    return nil
                }
                #expect(stopped == spare)
                #expect(handler.pool.count == 1)
                try await waitUntil("the spare instance stopped") { loader.context.liveWorkers.count == 1 }
                #expect(try await handler.call("pid") == .int(Int64(handler.pid)))
            }
        }

        @Test func aStartOfAStoppedPoolWhoseSecondInstanceCannotComeUpLeavesItStoppedWithoutACrash() async throws {
            try await withLoader(suppressErrors: true) { loader, folder in
                let broken = Paths.join(folder.path, "broken")
                let path = Self.package(folder, "p", instances: "2", guardLine: #"[ "$LUMINAL_INSTANCE" = 2 ] && [ -e '\#(broken)' ] && exit 3"#)
                let handler = try #require(try await loader.loadPhoton(at: path).first)
                try await handler.start()
                try await loader.stopPhoton("p")
                let events = EventLog(loader)
                folder.write("broken", "")
                let error = try await #require(throws: LoaderError.self) { try await loader.startPhoton("p") }
                #expect(error.message.contains("photon file \(path) was not brought up (instance 2 failed at step 'handshake')") && error.message.contains("exit code 3"), "\(error.message)")
                // Instance 1 came up beside it and was let go: nothing crashed, nothing serves.
                #expect(handler.state == .stopped && handler.instances.allSatisfy { $0.state == .stopped }, "\(handler.instances)")
                #expect(!events.events.contains { if case .crashed = $0 { true } else if case .failed = $0 { true } else { false } }, "\(events.events)")
                try await waitUntil("no worker is left") { loader.context.liveWorkers.isEmpty }
                unlink(broken)
                try await loader.startPhoton("p")
                #expect(handler.instances.map(\.state) == [.started, .started])
            }
        }

        @Test func aPoolThatScaledComesBackAtItsFirstCountOnceStoppedAndStarted() async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                let path = Self.package(folder, "p", instances: #"{"min": 1, "max": 3, "linger": 60}"#)
                let (handler, busy) = try await Self.busyPool(loader, path)
                _ = try await handler.call("pid")
                _ = try await events.first("scaled up to 2") { if case .scaled(path, 2, 2, _, _) = $0 { true } else { nil } }
                busy.cancel()
                try await loader.restartPhoton("p")
                #expect(handler.pool.count == 1 && handler.state == .started)
                #expect(try await handler.call("pid") == .int(Int64(handler.pid)))
                try await waitUntil("only the first instance's worker is left") { loader.context.liveWorkers.count == 1 }
            }
        }

        @Test func aScaleUpGivenUpByAStopIsNoScaleFailure() async throws {
            let lines = Mutex<[String]>([])
            try await withLoader(logSink: { record in lines.withLock { $0.append(record.message) } }) { loader, folder in
                let events = EventLog(loader)
                let path = Self.package(folder, "p", instances: #"{"min": 1, "max": 3, "linger": 60}"#,
                                        guardLine: #"[ "$LUMINAL_INSTANCE" = 2 ] && exec sleep 3600"#)
                let (handler, busy) = try await Self.busyPool(loader, path)
                defer { busy.cancel() }
                _ = try await handler.call("pid")
                try await waitUntil("instance 2 is coming up") { loader.context.liveWorkers.count == 2 }
                #expect(try await loader.stopPhoton("p").photons == ["p"])
                try await waitUntil("the scale-up was given up") {
                    lines.withLock { $0.contains("scaling \(path) up to 2 instances was given up: the file is being stopped or unloaded") }
                }
                #expect(!events.events.contains { if case .scaleFailed = $0 { true } else { false } }, "\(events.events)")
                try await waitUntil("no worker is left") { loader.context.liveWorkers.isEmpty }
            }
        }

        @Test func aScaleUpThatFailsIsAnEventAndThePoolKeepsItsInstances() async throws {
            try await withLoader(suppressErrors: true) { loader, folder in
                let events = EventLog(loader)
                let path = Self.package(folder, "p", instances: #"{"min": 1, "max": 3, "linger": 60}"#,
                                        guardLine: #"[ "$LUMINAL_INSTANCE" = 2 ] && { echo "instance 2 refuses" >&2; exit 3; }"#)
                let (handler, busy) = try await Self.busyPool(loader, path)
                defer { busy.cancel() }
                let first = handler.pid
                #expect(try await handler.call("pid") == .int(Int64(first)))
                let (step, retryIn, error) = try await events.first("the scale-up failed") { event in
                    if case .scaleFailed(path, 2, let step, let retryIn, let error) = event { return (step, retryIn, error) }
                    return nil
                }
                #expect(step == .handshake && retryIn == .seconds(10))
                #expect(error.file == path && error.message.contains(path), "\(error.message)")
                let json = LoaderEvent.scaleFailed(file: path, instances: 2, step: step, retryIn: retryIn, error: error).json
                #expect(json["event"] == "scaleFailed" && json["step"] == "handshake" && json["retryIn"] == 10.0 && json["instances"] == 2)
                #expect(handler.pool.count == 1 && handler.pid == first)
                #expect(try await handler.call("pid") == .int(Int64(first)))
                try await waitUntil("the failed instance's worker is gone") { loader.context.liveWorkers.count == 1 }
            }
        }

        @Test func stoppingAndStartingAPoolStopsAndStartsEveryInstance() async throws {
            try await withLoader { loader, folder in
                let handler = try #require(try await loader.loadPhoton(at: Self.package(folder, "p", instances: "2")).first)
                try await handler.start()
                let before = Self.pids(handler)
                let outcome = try await loader.stopPhoton("p")
                #expect(outcome.ending == .clean)
                for pid in before { #expect(!exists(pid)) }
                #expect(handler.state == .stopped)
                try await loader.startPhoton("p")
                #expect(Self.pids(handler).count == 2 && Set(Self.pids(handler)).isDisjoint(with: before))
                #expect(handler.pool.cores.allSatisfy { $0.read { $0.photons["p"]?.state == .started } })
            }
        }

        @Test func instancesThatDeclareDifferentPhotonsFailTheLoad() async throws {
            try await withLoader { loader, folder in
                folder.write("p/photon.json", #"{"exec": "run", "instances": 2}"#)
                folder.script("p/run", "exec '\(BuildProducts.chaosPhoton)' serve \"p$LUMINAL_INSTANCE\"")
                let error = try await #require(throws: LoaderError.self) { try await loader.loadPhoton(at: Paths.join(folder.path, "p")) }
                #expect(error.code == .invalidHello && error.message.contains("every instance"), "\(error.message)")
                #expect(await loader.photons.isEmpty)
                try await waitUntil("no worker is left") { loader.context.liveWorkers.isEmpty }
            }
        }

        static let badCounts: [(instances: String, says: String)] = [
            ("0", "from 1 to 64, not 0"),
            ("65", "from 1 to 64, not 65"),
            ("-1", "from 1 to 64, not -1"),
            ("2.5", "whole number"),
            (#""4""#, "whole number"),
            (#"{"surge": 1}"#, "needs 'count'"),
            (#"{"count": 2, "surge": 3}"#, "'instances.surge' must be a whole number from 1 to the most instances (2), not 3"),
            (#"{"count": 2, "surge": 0}"#, "not 0"),
            (#"{"count": 2, "max": 3}"#, "has 'count' and 'min' or 'max'"),
            (#"{"min": 3, "max": 2}"#, "'instances.min' (3) is above 'instances.max' (2)"),
            (#"{"min": 2}"#, "needs 'count'"),
            (#"{"max": 65}"#, "'instances.max' must be a whole number from 1 to 64, not 65"),
            (#"{"min": 0, "max": 4}"#, "'instances.min' must be a whole number from 1 to 64, not 0"),
            (#"{"count": 0}"#, "'instances.count' must be a whole number from 1 to 64, not 0"),
            (#"{"max": 4, "linger": 0}"#, "'instances.linger' must be a number of seconds from 1 to 86400"),
            (#"{"count": 2, "speed": 3}"#, "'instances.speed' is not allowed"),
            (#"{"count": 2, "linger": 5}"#, "applies to a pool that scales"),
            ("99999999999999999999", "whole number"),
            ("1e3", "from 1 to 64, not 1000"),
        ]

        @Test func aPlainExecutablesPoolCannotScale() async throws {
            try await withLoader { loader, folder in
                folder.write("p/photon.json", #"{"protocol": "none", "exec": "run", "instances": {"min": 1, "max": 4}}"#)
                folder.script("p/run", "exec sleep 3600")
                let path = Paths.join(folder.path, "p")
                let error = try await #require(throws: LoaderError.self) { try await loader.loadPhoton(at: path) }
                #expect(error.code == .invalidManifest && error.message.contains(path) && error.message.contains("plain executable"), "\(error.message)")
                #expect(loader.context.liveWorkers.isEmpty)
            }
        }

        @Test(arguments: 0..<badCounts.count)
        func badInstanceCountsAreRefusedNamingTheManifestAndTheCause(index: Int) async throws {
            let (instances, says) = Self.badCounts[index]
            try await withLoader { loader, folder in
                let path = Self.package(folder, "p", instances: instances)
                let error = try await #require(throws: LoaderError.self) { try await loader.loadPhoton(at: path) }
                #expect(error.code == .invalidManifest)
                #expect(error.message.contains(Paths.join(path, "photon.json")) && error.message.contains(says), "\(error.message)")
                #expect(loader.context.liveWorkers.isEmpty)
            }
        }
    }
}
