import Luminal
import LuminalWire

/// Calls through a started photon: the round trip of one call at a time (p50/p99), and the
/// throughput of `window` callers sharing the one Handler, each calling again as soon as its
/// reply arrives.
enum CallLatency {
    static func run(photon: String, method: String, roundTrips: Int, pipelined: Int, window: Int) async {
        let loader = Loader()
        let handler = await startedPhoton(at: photon, in: loader)
        let figures = await measure(handler, method, roundTrips: roundTrips, pipelined: pipelined, window: window)
        await loader.unloadAll()
        var report = Report("calls")
        report["photon"] = .string(photon)
        report.add("round_trip", Stats(figures.roundTrips))
        report["pipelined_per_s"] = .double(figures.perSecond)
        report["window"] = .int(Int64(window))
        report.print()
    }

    /// `roundTrips` calls one at a time (after a warm-up), then `pipelined` calls from `window`
    /// callers at once: each round trip, and the calls a second of the second part.
    static func measure(_ handler: Handler, _ method: String, roundTrips: Int, pipelined: Int, window: Int) async -> (roundTrips: [Duration], perSecond: Double) {
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
        await withTaskGroup(of: Void.self) { group in
            for caller in 0..<window {
                group.addTask {
                    for _ in 0..<(pipelined / window + (caller < pipelined % window ? 1 : 0)) { await call(handler, method, params) }
                }
            }
        }
        return (samples, Double(pipelined) / (milliseconds(start.duration(to: clock.now)) / 1000))
    }

    private static func call(_ handler: Handler, _ method: String, _ params: JSONValue) async {
        do {
            _ = try await handler.call(method, params: params)
        } catch {
            fail("call '\(method)' failed: \(error)")
        }
    }
}
