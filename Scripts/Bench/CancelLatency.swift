#if canImport(Glibc)
import Glibc
#endif
import Luminal
import LuminalWire

/// Cancellation reaching the method, `runs` times each (chaos photon, Swift SDK):
/// - cancel → observed: from the caller's task being cancelled to the method's cancellation
///   handler running in the worker (CLOCK_MONOTONIC on both sides of one machine);
/// - cancel → spin stopped: a method keeping a CPU busy until its task is cancelled, and the CPU
///   time its worker used from 10 ms after the cancel for the next 100 ms (from /proc/PID/stat).
enum CancelLatency {
    static func run(photon: String, runs: Int) async {
        let loader = Loader()
        var events = loader.events().makeAsyncIterator()
        let handler = await startedPhoton(at: photon, in: loader)
        var observed: [Duration] = [], stopped: [Duration] = []
        var busyTicks = 0
        for _ in 0..<runs {
            let call = Task { try? await handler.call("await-cancel", timeout: .seconds(60)) }
            _ = await next("running", &events)
            let cancelled = monotonicNanoseconds()
            call.cancel()
            observed.append(.nanoseconds(await next("observed", &events).intValue! - cancelled))
            _ = await call.value
        }
        for _ in 0..<runs {
            let call = Task { try? await handler.call("spin-until-cancelled", timeout: .seconds(60)) }
            let pid = pid_t(await next("running", &events).intValue!)
            let cancelled = monotonicNanoseconds()
            call.cancel()
            stopped.append(.nanoseconds(await next("stopped", &events).intValue! - cancelled))
            _ = await call.value
            sleep(untilNanoseconds: cancelled + 10_000_000)
            let before = cpuTicks(of: pid)
            sleep(untilNanoseconds: cancelled + 110_000_000)
            busyTicks += cpuTicks(of: pid) - before
        }
        await loader.unloadAll()
        var report = Report("cancel")
        report["photon"] = .string(photon)
        report.add("observed", Stats(observed))
        report.add("spin_stopped", Stats(stopped))
        // Clock ticks are 10 ms: the share of the windows the worker was seen running.
        report["cpu_after_10ms_ms"] = .double(Double(busyTicks) * 1000 / Double(sysconf(Int32(_SC_CLK_TCK))))
        report["cpu_window_ms"] = .double(Double(runs) * 100)
        report.print()
    }

    /// The data of the next event the photon emits named `name`.
    private static func next(_ name: String, _ events: inout AsyncStream<LoaderEvent>.Iterator) async -> JSONValue {
        while let event = await events.next() {
            if case .photonEvent(_, _, let emitted, let data) = event, emitted == name { return data }
        }
        fail("the event stream ended before '\(name)'")
    }

    /// utime + stime of `pid`, in clock ticks.
    private static func cpuTicks(of pid: pid_t) -> Int {
        let stat = String(decoding: readFile("/proc/\(pid)/stat"), as: UTF8.self)
        guard let close = stat.lastIndex(of: ")") else { fail("cannot read /proc/\(pid)/stat") }
        // After "pid (comm)": state is field 3, utime and stime fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
    }

    private static func sleep(untilNanoseconds deadline: Int64) {
        var until = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nil) == EINTR {}
    }
}

/// CLOCK_MONOTONIC now, in nanoseconds: comparable with the chaos photon's readings.
func monotonicNanoseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
}
