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
    @Suite struct Reload {
        @Test func reloadKeepsTheHandlerAndAdvancesGenerationAndChecksum() async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                let path = folder.chaos("alpha")
                let handler = try #require(try await loader.loadPhoton(at: path).first)
                try await handler.start()
                let (oldPID, oldChecksum) = (handler.pid, handler.checksum)
                folder.script("alpha", "# edited\nexec '\(BuildProducts.chaosPhoton)' serve alpha")
                let reloaded = try await loader.reloadPhoton(handler)
                #expect(reloaded.count == 1 && reloaded[0] === handler)
                #expect(await loader.photons["alpha"] === handler)
                #expect(handler.generation == 2)
                #expect(handler.pid != oldPID)
                #expect(handler.checksum != oldChecksum)
                #expect(handler.state == .started)
                #expect(try await handler.call("echo", params: "new") == "new")
                #expect(!exists(oldPID))
                try await events.log("alpha finalizer ran")
                let report = try await events.first("reloaded event") { event in
                    if case .reloaded(let report) = event { return report }
                    return nil
                }
                #expect(report.fromGeneration == 1 && report.toGeneration == 2)
                #expect(report.oldPID == oldPID && report.newPID == handler.pid)
                #expect(report.oldEnding == .clean)
            }
        }

        /// How to break a photon file so its next generation fails at a given step.
        static let breakages: [(step: ReloadStep, mode: String, note: String)] = [
            (.resolve, "", "not executable"),
            (.spawn, "", "missing interpreter"),
            (.handshake, "exit-now", "exits at once"),
            (.handshake, "no-hello", "never says hello"),
            (.handshake, "wrong-version", "wrong protocol"),
            (.validate, "no-base", "no photon of the base"),
            (.validate, "serve", "name clash"),
            (.start, "crash-on-start", "crash during start"),
        ]

        @Test(.serialized, arguments: 0..<breakages.count)
        func failedReloadRollsBackAndTheOldGenerationKeepsServing(index: Int) async throws {
            let (step, mode, note) = Self.breakages[index]
            var configuration = LoaderConfiguration.fast
            configuration.handshakeTimeout = .seconds(1)
            try await withLoader(configuration: configuration) { loader, folder in
                let events = EventLog(loader)
                let path = folder.chaos("alpha")
                folder.chaos("other")
                let handler = try #require(try await loader.loadPhoton(at: path).first)
                _ = try await loader.loadPhoton(at: Paths.join(folder.path, "other"))
                try await handler.start()
                let pid = handler.pid
                let children = Procfs.childPIDs(of: getpid()).count
                switch note {
                case "not executable": chmod(path, 0o644)
                case "missing interpreter": folder.write("alpha", "#!/nonexistent/interpreter\n", mode: 0o755)
                case "name clash": folder.script("alpha", "exec '\(BuildProducts.chaosPhoton)' serve other")
                default: folder.script("alpha", "exec '\(BuildProducts.chaosPhoton)' \(mode) alpha")
                }
                let error = try await #require(throws: LoaderError.self) { try await loader.reloadPhoton("alpha") }
                #expect(error.code == .reloadRolledBack)
                #expect(error.message.contains("step '\(step.rawValue)'"), "\(note): \(error.message)")
                #expect(error.message.contains("generation 1 keeps serving"))
                let rolledBack = try await events.first("rolled back event") { event in
                    if case .reloadRolledBack(let file, let step, _) = event, file == path { return step }
                    return nil
                }
                #expect(rolledBack == step)
                #expect(handler.pid == pid && handler.generation == 1 && handler.state == .started)
                // Status shows the failed version beside the one serving, until a reload succeeds.
                let failure = try #require(handler.snapshot.reloadFailure, "\(note): no reloadFailure in status")
                #expect(failure.step == step && failure.failures == 1)
                #expect(handler.statusJSON["reloadFailure"]?["step"]?.stringValue == step.rawValue)
                _ = try? await loader.reloadPhoton("alpha")
                #expect(handler.snapshot.reloadFailure?.failures == 2)
                #expect(try await handler.call("echo", params: "still here") == "still here")
                #expect(Procfs.childPIDs(of: getpid()).count == children)
            }
        }

        @Test func groupReloadIsAllOrNothing() async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                let a = try #require(try await loader.loadPhoton(at: folder.chaos("a")).first)
                let b = try #require(try await loader.loadPhoton(at: folder.chaos("b")).first)
                try await a.start()
                try await b.start()
                let pids = (a.pid, b.pid)
                folder.script("b", "exec '\(BuildProducts.chaosPhoton)' exit-now b")
                let error = try await #require(throws: LoaderError.self) { try await loader.reloadPhotons([a, b]) }
                #expect(error.file == b.filePath)
                #expect((a.pid, b.pid) == pids)
                #expect(a.generation == 1 && b.generation == 1)
                #expect(try await a.call("echo", params: 1) == 1)
                #expect(try await b.call("echo", params: 2) == 2)
                let steps = try await events.satisfy("both rolled back") { recorded -> [String: ReloadStep]? in
                    let all = recorded.compactMap { event -> (String, ReloadStep)? in
                        if case .reloadRolledBack(let file, let step, _) = event { return (Paths.name(file), step) }
                        return nil
                    }
                    return all.count == 2 ? Dictionary(uniqueKeysWithValues: all) : nil
                }
                #expect(steps == ["a": .group, "b": .handshake])

                folder.chaos("b")
                let reloaded = try await loader.reloadPhotons(["a", "b"])
                #expect(Set(reloaded.map(\.name)) == ["a", "b"])
                #expect(a.generation == 2 && b.generation == 2)
            }
        }

        @Test func noCallIsLostOrDuplicatedAcrossFiftyReloads() async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                let handler = try #require(try await loader.loadPhoton(at: folder.chaos("tallied")).first)
                try await handler.start()
                let running = RunningFlag()
                let results = try await withThrowingTaskGroup(of: [Int64].self) { group in
                    for caller in 0..<4 {
                        group.addTask {
                            var seen: [Int64] = []
                            var n = Int64(caller) << 32
                            while running.isOn {
                                n += 1
                                let reply = try await handler.call("tally", params: .int(n))
                                #expect(reply["params"] == .int(n))
                                seen.append(n)
                                running.countCall()
                            }
                            return seen
                        }
                    }
                    // Paced by the callers, so calls and reloads interleave at any machine speed.
                    for round in 1...50 {
                        try await waitUntil("40 more calls") { running.calls >= round * 40 }
                        try await loader.reloadPhoton(handler)
                    }
                    running.turnOff()
                    var all: [Int64] = []
                    for try await seen in group { all += seen }
                    return all
                }
                #expect(handler.generation == 51)
                try await loader.unloadPhoton(handler)
                // Every generation's finalizer reports how many calls it served.
                let served = try await events.satisfy("51 finalizer reports") { recorded -> Int? in
                    let counts = recorded.compactMap { event -> Int? in
                        guard case .log(let line) = event, line.text.hasPrefix("tallied finalizer ran, served ") else { return nil }
                        return Int(line.text.split(separator: " ").last!)
                    }
                    return counts.count == 51 ? counts.reduce(0, +) : nil
                }
                #expect(results.count >= 2000)
                #expect(Set(results).count == results.count)
                #expect(served == results.count)
            }
        }
    }
}

/// A flag shared by concurrent callers.
final class RunningFlag: Sendable {
    private let value = Atomic<Bool>(true)
    private let count = Atomic<Int>(0)
    var isOn: Bool { value.load(ordering: .relaxed) }
    func turnOff() { value.store(false, ordering: .relaxed) }
    /// Calls completed so far.
    var calls: Int { count.load(ordering: .relaxed) }
    func countCall() { count.add(1, ordering: .relaxed) }
}
