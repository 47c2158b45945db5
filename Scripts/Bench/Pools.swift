#if canImport(Glibc)
import Glibc
#endif
import Luminal
import LuminalTestKit
import LuminalWire
import LuminalWorker
import Synchronization

/// Pools (`instances` in a manifest), each beside its baseline in the same run:
/// - a CPU-bound Python method, on one instance and on two (4 callers, `cpuCalls` calls each);
/// - calls at about 33 a second to a pool of 4 Python instances that serve one call at a
///   time, 90% taking 1 ms and 10% 200 ms: the short calls' latency beside the same schedule of
///   short calls alone, and beside 4 files of one instance each, called in turn (round-robin);
/// - `rolls` rolling reloads of an 8-instance pool of the Swift chaos photon under 16 callers;
/// - `rolls` / 2 scale-ups of a Python pool of 1 to 2 (a call queued behind a long one → the
///   second instance serving), beside the cold load and start of the same package.
enum Pools {
    static func run(runtime: String, chaos: String, cpuCalls: Int, mixedCalls: Int, rolls: Int) async {
        let folder = makeTemporaryFolder()
        var report = Report("pools")
        let one = await cpuThroughput(instances: 1, runtime: runtime, in: folder, calls: cpuCalls)
        let two = await cpuThroughput(instances: 2, runtime: runtime, in: folder, calls: cpuCalls)
        report["cpu"] = ["one_calls_per_s": .double(one), "two_calls_per_s": .double(two)]
        let schedule = Schedule(calls: mixedCalls)
        report.add("short_alone", await mixedLatency(schedule, long: false, pooled: true, runtime: runtime, in: folder))
        report.add("short_mixed", await mixedLatency(schedule, long: true, pooled: true, runtime: runtime, in: folder))
        report.add("short_round_robin", await mixedLatency(schedule, long: true, pooled: false, runtime: runtime, in: folder))
        let (rolled, failures, whole) = await rollingReloads(chaos: chaos, in: folder, rolls: rolls)
        report["roll"] = ["reloads": .int(Int64(rolls)), "instances": 8, "callers": 16, "calls_ok": .int(Int64(rolled)),
                          "calls_failed": .int(Int64(failures.count)),
                          "failed_codes": .array(Set(failures).sorted().map(JSONValue.string))]
        report.add("roll_reload", whole)
        let (scaleUps, coldStarts) = await scaleUps(runtime: runtime, in: folder, runs: max(rolls / 2, 3))
        report.add("scale_up", scaleUps)
        report.add("cold_start", coldStarts)
        removeTree(folder)
        report.print()
    }

    /// A package running a Python photon `name` with `instances` instances: `work` spins the CPU
    /// for `n` rounds, `task` sleeps `ms` while holding a lock (one call at a time, as a
    /// single-threaded server).
    static func pythonPackage(_ name: String, instances: Int, runtime: String, in folder: String) -> String {
        let package = folder + "/" + name
        mkdir(package, 0o755)
        writeFile(package + "/photon.json", Array(#"{"exec": "photon.py", "instances": \#(instances)}"#.utf8), mode: 0o644)
        let source = """
        #!/usr/bin/env python3
        import sys, threading, time
        sys.path.insert(0, \(JSONValue.string(runtime)))
        from luminal_photon import Photon, run
        photon = Photon(\(JSONValue.string(name)), kinds=["IPhoton"])
        one_at_a_time = threading.Lock()
        @photon.method()
        def work(params, ctx):
            total = 0
            for i in range(params["n"]):
                total += i * i
            return total
        @photon.method()
        def task(params, ctx):
            with one_at_a_time:
                time.sleep(params["ms"] / 1000)
            return None
        run(photon)
        """
        writeFile(package + "/photon.py", Array(source.utf8), mode: 0o755)
        return package
    }

    /// Calls per second of `work` (about 5 ms of CPU each) from 4 callers.
    static func cpuThroughput(instances: Int, runtime: String, in folder: String, calls: Int) async -> Double {
        let loader = Loader()
        let handler = await startedPhoton(at: pythonPackage("cpu\(instances)", instances: instances, runtime: runtime, in: folder), in: loader)
        // One untimed round first: each instance's interpreter has run the method once.
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 { group.addTask { _ = try? await handler.call("work", params: ["n": 1000]) } }
        }
        let clock = ContinuousClock()
        let start = clock.now
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    for _ in 0..<calls {
                        do { _ = try await handler.call("work", params: ["n": 100_000]) } catch { fail("work failed: \(error)") }
                    }
                }
            }
        }
        let seconds = milliseconds(start.duration(to: clock.now)) / 1000
        await loader.unloadAll()
        return Double(4 * calls) / seconds
    }

    /// When each call of the mixed load is sent, and whether it is a long one: about 33 a second,
    /// at random (exponential gaps of 30 ms on average, so that no routing lines up with a fixed
    /// beat), one in ten long, the same for every run (a fixed seed).
    struct Schedule {
        let long: [Bool]
        /// When each call is sent, after the first.
        let sent: [Duration]

        init(calls: Int) {
            var random = SplitMix(seed: 22)
            long = (0..<calls).map { _ in Int.random(in: 0..<10, using: &random) == 0 }
            var at = Duration.zero
            sent = (0..<calls).map { _ in
                defer { at += .microseconds(Int64(-30_000 * log(Double.random(in: Double.ulpOfOne..<1, using: &random)))) }
                return at
            }
        }
    }

    /// The latency of the short calls of `schedule` (with its long calls when `long`), sent to a
    /// pool of 4 (`pooled`) or in turn to 4 files of one instance each.
    static func mixedLatency(_ schedule: Schedule, long: Bool, pooled: Bool, runtime: String, in folder: String) async -> Stats {
        let loader = Loader()
        let label = "\(long ? "mixed" : "alone")\(pooled ? "pool" : "rr")"
        var handlers: [Handler] = []
        if pooled {
            handlers = [await startedPhoton(at: pythonPackage(label, instances: 4, runtime: runtime, in: folder), in: loader)]
        } else {
            for index in 0..<4 {
                handlers.append(await startedPhoton(at: pythonPackage("\(label)\(index)", instances: 1, runtime: runtime, in: folder), in: loader))
            }
        }
        let clock = ContinuousClock()
        let start = clock.now
        let latencies = await withTaskGroup(of: Duration?.self) { group in
            for (index, isLong) in schedule.long.enumerated() {
                let due = start + schedule.sent[index]
                try? await Task.sleep(until: due, clock: clock)
                if isLong && !long { continue }
                let handler = handlers[index % handlers.count]
                group.addTask {
                    let sent = clock.now
                    do { _ = try await handler.call("task", params: ["ms": isLong ? 200 : 1]) } catch { fail("task failed: \(error)") }
                    return isLong ? nil : sent.duration(to: clock.now)
                }
            }
            var latencies: [Duration] = []
            for await latency in group { if let latency { latencies.append(latency) } }
            return latencies
        }
        await loader.unloadAll()
        return Stats(latencies)
    }

    /// `runs` times: a Python pool of 1 to 2 instances is loaded and started (its cold start), a
    /// call of 1 s holds its instance, and one more call is queued behind it: the time from that
    /// call to the second instance serving (`scaled`).
    static func scaleUps(runtime: String, in folder: String, runs: Int) async -> (Stats, Stats) {
        let package = pythonPackage("scale", instances: 1, runtime: runtime, in: folder)
        writeFile(package + "/photon.json", Array(#"{"exec": "photon.py", "instances": {"min": 1, "max": 2}}"#.utf8), mode: 0o644)
        let clock = ContinuousClock()
        var scaleUps: [Duration] = [], coldStarts: [Duration] = []
        for _ in 0..<runs {
            let loader = Loader()
            let events = loader.events()
            let loaded = clock.now
            let handler = await startedPhoton(at: package, in: loader)
            coldStarts.append(loaded.duration(to: clock.now))
            let long = Task { try? await handler.call("task", params: ["ms": 1000]) }
            while handler.pool.first.read({ $0.serving?.connection.callsInFlight ?? 0 }) == 0 { await Task.yield() }
            let queued = clock.now
            let short = Task { try? await handler.call("task", params: ["ms": 1]) }
            for await event in events {
                if case .scaled(_, 2, _, _, _) = event { break }
            }
            scaleUps.append(queued.duration(to: clock.now))
            _ = await long.value
            _ = await short.value
            await loader.unloadAll()
        }
        return (Stats(scaleUps), Stats(coldStarts))
    }

    /// `rolls` reloads of an 8-instance pool of the chaos photon (surge 1) while 16 callers call
    /// it without pause: the calls answered, the failures' codes, and each reload's time.
    static func rollingReloads(chaos: String, in folder: String, rolls: Int) async -> (Int, [String], Stats) {
        let package = folder + "/roll"
        mkdir(package, 0o755)
        writeFile(package + "/photon.json", Array(#"{"exec": "run", "instances": 8}"#.utf8), mode: 0o644)
        let script = { (round: Int) in Array("#!/bin/sh\n# \(round)\nexec '\(chaos)' serve roll\n".utf8) }
        writeFile(package + "/run", script(0), mode: 0o755)
        let loader = Loader()
        let handler = await startedPhoton(at: package, in: loader)
        let running = Flag()
        let clock = ContinuousClock()
        var whole: [Duration] = []
        let (answered, failures) = await withTaskGroup(of: (Int, [String]).self) { group in
            for caller in 0..<16 {
                group.addTask {
                    var answered = 0, failures: [String] = []
                    while running.isSet {
                        do throws(LoaderError) {
                            _ = try await handler.call("echo", params: ["caller": .int(Int64(caller))])
                            answered += 1
                        } catch {
                            failures.append(error.code.rawValue)
                        }
                    }
                    return (answered, failures)
                }
            }
            for round in 1...rolls {
                writeFile(package + "/run", script(round), mode: 0o755)
                let start = clock.now
                do {
                    try await loader.reloadPhoton(handler)
                } catch {
                    fail("rolling reload \(round) failed: \(error)")
                }
                whole.append(start.duration(to: clock.now))
            }
            running.clear()
            var answered = 0, failures: [String] = []
            for await (count, failed) in group {
                answered += count
                failures += failed
            }
            return (answered, failures)
        }
        await loader.unloadAll()
        return (answered, failures, Stats(whole))
    }
}
