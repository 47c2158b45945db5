#if canImport(Glibc)
import Glibc
#endif
import Luminal
import LuminalTestKit
import LuminalWire
import LuminalWorker

/// One soak run: photon files of the chaos photon under a loader, and a stream of operations
/// drawn from a seeded generator, while `Invariants` and the call checks hold.
///
/// Call checks: every call ends (none waits 30 s); a call that succeeds returns its own token and
/// ran exactly once (the mark log); a call fails only if its photon was crashed, faulted or
/// unloaded while it ran or was not serving when it began (a reload must lose nothing). A reload
/// of a serving photon succeeds and moves it to a new generation; a crashed or faulted photon is
/// serving again within 20 s; a graceful unload ends clean, a forced one by SIGTERM.
actor TortureRun {
    /// One photon file, as the run last left it.
    struct Slot {
        let name: String
        let path: String
        var loaded = true
        /// Loaded, started and not disrupted since.
        var serving = true
        /// A reload, crash, fault, unload or load of it is running.
        var busy = false
        /// Crashes, faults and unloads so far: a call that saw this change may fail.
        var disruptions = 0
    }

    enum Operation: String, CaseIterable {
        case call, reload, crash, fault, unload, load

        /// Relative frequency.
        var weight: UInt64 {
            switch self {
            case .call: 850
            case .reload: 50
            case .crash: 30
            case .fault: 20
            // A load only happens when the drawn file is unloaded: five times the unload weight
            // keeps about one file in six unloaded.
            case .unload: 20
            case .load: 100
            }
        }
    }

    let seed: UInt64
    let duration: Duration
    let folder: String
    let loader: Loader
    var random: SplitMix
    var slots: [Slot] = []
    var invariants: Invariants
    var markLog: MarkLog
    var violation: String?
    var counts: [String: Int] = [:]
    var nextToken: Int64 = 1
    var inFlight: [Int64: ContinuousClock.Instant] = [:]
    var succeeded = TokenSet()
    let maxCallsInFlight = 16
    let lostAfter = Duration.seconds(30)

    init(chaos: String, folder: String, seed: UInt64, photons: Int, duration: Duration) {
        self.seed = seed
        self.duration = duration
        random = SplitMix(seed: seed)
        self.folder = folder
        markLog = MarkLog(path: folder + "/marks.log")
        var configuration = LoaderConfiguration()
        configuration.stopTimeout = .seconds(2)
        configuration.killTimeout = .seconds(1)
        configuration.restart.initialDelay = .milliseconds(20)
        configuration.restart.maxDelay = .milliseconds(500)
        configuration.restart.stableAfter = .seconds(2)
        configuration.restart.quarantineAfter = 1_000_000
        loader = Loader(configuration: configuration)
        for index in 0..<photons {
            let name = "p\(index)"
            writeFile(folder + "/\(name)/photon.json", #"{"exec": "run", "args": ["serve", "\#(name)"]}"#)
            writeFile(folder + "/\(name)/run", "#!/bin/sh\nexec '\(chaos)' \"$@\"\n", mode: 0o755)
            slots.append(Slot(name: name, path: folder + "/\(name)"))
        }
        invariants = Invariants(photonFiles: photons, warmUp: min(.seconds(60), duration / 4))
    }

    /// Runs until the duration passes or an invariant breaks; true if none broke.
    func run() async -> Bool {
        say("torture: seed \(seed), \(duration), \(slots.count) photon files; replay with: Scripts/torture --minutes \(minutes) --seed \(seed) --photons \(slots.count)")
        do {
            for handler in try await loader.loadPhotons(in: folder) { try await handler.start() }
        } catch {
            fail("the photon files did not load: \(error)")
        }
        invariants = Invariants(photonFiles: slots.count, warmUp: invariants.warmUp)
        let end = ContinuousClock.now + duration
        let monitor = Task { await watch(until: end) }
        await withDiscardingTaskGroup { group in
            while violation == nil && ContinuousClock.now < end {
                step(in: &group)
                try? await Task.sleep(for: .microseconds(Int64(random.next(upperBound: UInt64(2000)))))
            }
        }
        monitor.cancel()
        await finish()
        report()
        if let violation {
            say("torture: BROKEN after \(operations) operations: \(violation)")
            say("torture: replay with: Scripts/torture --minutes \(minutes) --seed \(seed) --photons \(slots.count)")
            return false
        }
        say("torture: passed: \(operations) operations, every invariant held")
        return true
    }

    private var minutes: String { String(Double(duration.components.seconds) / 60) }
    private var operations: Int { counts.values.reduce(0, +) }

    /// Draws one operation and starts it, if its photon is in a state to take it.
    private func step(in group: inout DiscardingTaskGroup) {
        var draw = random.next(upperBound: Operation.allCases.map(\.weight).reduce(0, +))
        let operation = Operation.allCases.first { operation in
            if draw < operation.weight { return true }
            draw -= operation.weight
            return false
        }!
        let index = Int(random.next(upperBound: UInt64(slots.count)))
        switch operation {
        case .call:
            // One call in ten to a photon that is not serving (unloaded, or crashed and waiting
            // for its restart) is enough to check that it fails cleanly.
            guard inFlight.count < maxCallsInFlight, slots[index].serving || random.next(upperBound: UInt64(10)) == 0 else { return }
            let token = nextToken
            nextToken += 1
            inFlight[token] = .now
            let (name, disruptions, serving) = (slots[index].name, slots[index].disruptions, slots[index].serving)
            let timeout = random.next(upperBound: UInt64(50)) == 0 ? Duration.milliseconds(1) : nil
            group.addTask { await self.call(index, name, token: token, timeout: timeout, disruptions: disruptions, serving: serving) }
        case .load:
            guard !slots[index].loaded, !slots[index].busy else { return }
            slots[index].busy = true
            group.addTask { await self.load(index) }
        default:
            guard slots[index].serving, !slots[index].busy else { return }
            slots[index].busy = true
            if operation != .reload {
                slots[index].serving = false
                slots[index].disruptions += 1
            }
            let forced = random.next(upperBound: UInt64(2)) == 0, exitCode = Int64(random.next(upperBound: UInt64(4)))
            group.addTask { await self.disrupt(operation, index, forced: forced, exitCode: exitCode) }
        }
    }

    private func call(_ index: Int, _ name: String, token: Int64, timeout: Duration?, disruptions: Int, serving: Bool) async {
        do {
            let value = try await loader.call(name, "mark", params: ["token": .int(token), "log": .string(markLog.path)], timeout: timeout)
            if value != .int(token) { fail("call \(token) to \(name) returned \(value), not its token") }
            succeeded.insert(token)
            count("call")
        } catch {
            if error.code == .timeout && timeout != nil {
                count("call timed out (1 ms timeout)")
            } else if serving && slots[index].disruptions == disruptions {
                fail("call \(token) to \(name) failed while nothing disrupted it: \(error)")
            } else {
                count("call failed by a disruption (\(error.code))")
            }
        }
        inFlight[token] = nil
    }

    private func load(_ index: Int) async {
        let slot = slots[index]
        do {
            for handler in try await loader.loadPhoton(at: slot.path) { try await handler.start() }
            slots[index].loaded = true
            slots[index].serving = true
            count("load")
        } catch {
            fail("loading \(slot.path) again failed: \(error)")
        }
        slots[index].busy = false
    }

    private func disrupt(_ operation: Operation, _ index: Int, forced: Bool, exitCode: Int64) async {
        let name = slots[index].name
        guard let handler = await loader.photons[name] else { return fail("photon \(name) is not loaded although it was serving") }
        let generation = handler.generation
        switch operation {
        case .reload:
            do {
                try await loader.reloadPhoton(handler)
                if handler.generation <= generation { fail("reload of \(name) left it at generation \(handler.generation)") }
                count("reload")
            } catch {
                fail("reload of serving photon \(name) failed: \(error)")
            }
        case .crash:
            _ = try? await handler.call("crash", params: exitCode == 0 ? nil : ["exit": .int(exitCode)])
            await awaitRestart(handler, after: generation, "a crash")
            count("crash")
        case .fault:
            do {
                _ = try await handler.call("raw", params: ["hex": "0000000a1b5b33316d6f6f707321"])
                fail("photon \(name) wrote garbage on fd 4 and its call succeeded")
            } catch where error.code == .protocolFault {
                await awaitRestart(handler, after: generation, "a protocol fault")
                count("fault")
            } catch {
                fail("photon \(name) wrote garbage on fd 4 and its call failed with \(error), not a protocol fault")
            }
        case .unload:
            do {
                let outcome = try await loader.unloadPhoton(handler, forceStop: forced)
                let expected: UnloadOutcome.Ending = forced ? .terminated : .clean
                if outcome.ending != expected { fail("\(forced ? "forced" : "graceful") unload of \(name) ended \(outcome.ending), not \(expected)") }
                slots[index].loaded = false
                count("unload")
            } catch {
                fail("unload of \(name) failed: \(error)")
            }
        case .call, .load:
            break
        }
        slots[index].busy = false
    }

    /// Waits for the supervisor to restart `handler` past `generation`; it must within 20 s.
    private func awaitRestart(_ handler: Handler, after generation: Int, _ cause: String) async {
        let deadline = ContinuousClock.now + .seconds(20)
        while !(handler.state == .started && handler.generation > generation) {
            guard ContinuousClock.now < deadline, violation == nil else {
                return fail("photon \(handler.name) is not serving 20 s after \(cause) (state \(handler.state), generation \(handler.generation))")
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        if let index = slots.firstIndex(where: { $0.name == handler.name }) { slots[index].serving = true }
    }

    /// Checks the invariants four times a second, and reports every 30 s.
    private func watch(until end: ContinuousClock.Instant) async {
        var lastReport = ContinuousClock.now
        while !Task.isCancelled && violation == nil && ContinuousClock.now < end {
            let census = ProcessCensus.now()
            if let broken = invariants.check(census) { fail(broken) }
            if let duplicate = markLog.readNew() { fail("call \(duplicate) ran twice (its token is twice in the mark log)") }
            if let (token, since) = inFlight.min(by: { $0.value < $1.value }), since.duration(to: .now) > lostAfter {
                fail("call \(token) lost: no outcome after \(lostAfter)")
            }
            if lastReport.duration(to: .now) >= .seconds(30) {
                lastReport = .now
                say("torture: \(invariants.began.duration(to: .now).components.seconds) s: \(summary(census))")
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
    }

    /// After the last operation: every successful call ran once, and unloading everything leaves
    /// no child and no descriptor beyond the baseline.
    private func finish() async {
        if let duplicate = markLog.readNew() { fail("call \(duplicate) ran twice (its token is twice in the mark log)") }
        if let missing = succeeded.members.first(where: { !markLog.seen.contains($0) }) {
            fail("call \(missing) succeeded but never ran (its token is not in the mark log)")
        }
        await loader.unloadAll()
        let deadline = ContinuousClock.now + .seconds(10)
        var census = ProcessCensus.now()
        while !census.children.isEmpty || census.descriptors > invariants.baselineDescriptors {
            guard ContinuousClock.now < deadline else {
                fail("after unloading everything: \(census.children.count) children, \(census.descriptors) descriptors (baseline \(invariants.baselineDescriptors))")
                break
            }
            try? await Task.sleep(for: .milliseconds(50))
            census = ProcessCensus.now()
        }
    }

    private func summary(_ census: ProcessCensus) -> String {
        let operations = counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return "\(operations); \(census.children.count) children, \(census.descriptors) descriptors, resident \(census.residentBytes >> 20) MiB (warm-up peak \(invariants.warmPeakBytes >> 20) MiB), longest zombie \(invariants.longestZombie)"
    }

    private func report() {
        say("torture: \(summary(ProcessCensus.now()))")
    }

    private func count(_ what: String) {
        counts[what, default: 0] += 1
    }

    private func fail(_ what: String) {
        if violation == nil { violation = what }
    }
}
