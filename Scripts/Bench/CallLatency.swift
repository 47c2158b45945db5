#if canImport(Glibc)
import Glibc
#endif
import Luminal
import LuminalSystem
import LuminalWire

/// Calls through a started photon: the round trip of one call at a time (p50/p99), and the
/// throughput of `window` callers sharing the one Handler, each calling again as soon as its
/// reply arrives, with the CPU time a pipelined call costs this process (the supervisor and its
/// callers) and the worker.
enum CallLatency {
    /// What `measure` found.
    struct Figures {
        /// Each call made one at a time.
        let roundTrips: [Duration]
        /// Pipelined calls a second.
        let perSecond: Double
        /// CPU time of this process per pipelined call, in microseconds.
        let supervisorCPUMicroseconds: Double
        /// CPU time of the photon's worker per pipelined call, in microseconds.
        let workerCPUMicroseconds: Double
    }

    static func run(photon: String, method: String, roundTrips: Int, pipelined: Int, window: Int) async {
        let loader = Loader()
        let handler = await startedPhoton(at: photon, in: loader)
        let figures = await measure(handler, method, roundTrips: roundTrips, pipelined: pipelined, window: window)
        await loader.unloadAll()
        var report = Report("calls")
        report["photon"] = .string(photon)
        report.add("round_trip", Stats(figures.roundTrips))
        report["pipelined_per_s"] = .double(figures.perSecond)
        report["supervisor_cpu_us_per_call"] = .double(figures.supervisorCPUMicroseconds)
        report["worker_cpu_us_per_call"] = .double(figures.workerCPUMicroseconds)
        report["window"] = .int(Int64(window))
        report.print()
    }

    /// `roundTrips` calls one at a time (after a warm-up), then `pipelined` calls from `window`
    /// callers at once: each round trip, and the calls a second and CPU time a call of the second part.
    static func measure(_ handler: Handler, _ method: String, roundTrips: Int, pipelined: Int, window: Int) async -> Figures {
        let params: JSONValue = ["who": "bench"]
        for _ in 0..<min(1000, roundTrips) { await call(handler, method, params) }
        var samples: [Duration] = []
        samples.reserveCapacity(roundTrips)
        let clock = ContinuousClock()
        for _ in 0..<roundTrips {
            let start = clock.now
            await call(handler, method, params)
            samples.append(start.duration(to: clock.now))
        }
        let start = clock.now
        let cpu = cpuSeconds(), worker = workerCPUSeconds(handler.pid)
        await withTaskGroup(of: Void.self) { group in
            for caller in 0..<window {
                group.addTask {
                    for _ in 0..<(pipelined / window + (caller < pipelined % window ? 1 : 0)) { await call(handler, method, params) }
                }
            }
        }
        let elapsed = milliseconds(start.duration(to: clock.now)) / 1000
        return Figures(roundTrips: samples, perSecond: Double(pipelined) / elapsed,
                       supervisorCPUMicroseconds: (cpuSeconds() - cpu) * 1e6 / Double(pipelined),
                       workerCPUMicroseconds: (workerCPUSeconds(handler.pid) - worker) * 1e6 / Double(pipelined))
    }

    /// User + system CPU seconds of the process `pid` so far (clock-tick resolution).
    private static func workerCPUSeconds(_ pid: Int32) -> Double {
        guard let stat = ProcStat.read(pid) else { fail("worker \(pid) is gone") }
        return Double(stat.cpuTicks) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    private static func call(_ handler: Handler, _ method: String, _ params: JSONValue) async {
        do {
            _ = try await handler.call(method, params: params)
        } catch {
            fail("call '\(method)' failed: \(error)")
        }
    }
}
