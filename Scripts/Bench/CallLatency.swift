import Luminal
import LuminalWire

/// Calls through a started photon: the round trip of one call at a time (p50/p99), and the
/// throughput of `window` callers sharing the one Handler, each calling again as soon as its
/// reply arrives.
enum CallLatency {
    static func run(photon: String, method: String, roundTrips: Int, pipelined: Int, window: Int) async {
        let loader = Loader()
        let handler = await startedPhoton(at: photon, in: loader)
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
        let elapsed = milliseconds(start.duration(to: clock.now)) / 1000
        await loader.unloadAll()
        var report = Report("calls")
        report["photon"] = .string(photon)
        report.add("round_trip", Stats(samples))
        report["pipelined_per_s"] = .double(Double(pipelined) / elapsed)
        report["window"] = .int(Int64(window))
        report.print()
    }

    private static func call(_ handler: Handler, _ method: String, _ params: JSONValue) async {
        do {
            _ = try await handler.call(method, params: params)
        } catch {
            fail("call '\(method)' failed: \(error)")
        }
    }
}
