#if canImport(Glibc)
import Glibc
#endif
import Luminal
import LuminalWire
import LuminalWorker
import Synchronization

/// `crashes` SIGKILLs of a photon's worker while `callers` tasks call its idempotent method `pid`
/// without pause: the calls that failed (the target is none), and how many were sent again. Each
/// kill waits until every caller has had a reply from the generation serving, so no call is in
/// flight in two killed generations (which would make it a poison call, failing by design).
/// Every crash is a first one (`stableAfter` zero), so each restart is immediate.
enum CrashRetry {
    static func run(photon: String, crashes: Int, callers count: Int) async {
        var configuration = LoaderConfiguration()
        configuration.restart.stableAfter = .zero
        let loader = Loader(configuration: configuration)
        let events = loader.events()
        let handler = await startedPhoton(at: photon, in: loader)
        let callers = Callers(count)
        let clock = ContinuousClock()
        let (failures, elapsed) = await withTaskGroup(of: [String].self) { group in
            for caller in 0..<count {
                group.addTask {
                    var failures: [String] = []
                    while callers.areRunning {
                        do throws(LoaderError) {
                            _ = try await handler.call("pid", timeout: .seconds(30))
                            callers.count(caller)
                        } catch {
                            failures.append(error.code.rawValue)
                        }
                    }
                    return failures
                }
            }
            let start = clock.now
            for _ in 0..<crashes {
                let seen = callers.counts
                while zip(callers.counts, seen).contains(where: { $0 == $1 }) { await Task.yield() }
                kill(handler.pid, SIGKILL)
                // The next round's replies must come from the next generation.
                let killed = handler.generation
                while handler.generation == killed { await Task.yield() }
            }
            let elapsed = start.duration(to: clock.now)
            callers.stop()
            var failures: [String] = []
            for await failed in group { failures += failed }
            return (failures, elapsed)
        }
        let generation = handler.generation
        await loader.unloadAll()
        var retried = 0, poison = 0
        events: for await event in events {
            switch event {
            case .callRetried: retried += 1
            case .poisonCall: poison += 1
            case .stopped: break events
            default: continue
            }
        }
        var report = Report("crash-retry")
        report["photon"] = .string(photon)
        report["crashes"] = .int(Int64(crashes))
        report["callers"] = .int(Int64(count))
        report["calls_ok"] = .int(Int64(callers.counts.reduce(0, +)))
        report["kills_s"] = .double(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        report["calls_failed"] = .int(Int64(failures.count))
        report["failed_codes"] = .array(Set(failures).sorted().map { .string($0) })
        report["retried"] = .int(Int64(retried))
        report["poison"] = .int(Int64(poison))
        report["generation"] = .int(Int64(generation))
        report.print()
    }
}

/// The replies each caller has had, and whether they are to go on calling.
private final class Callers: Sendable {
    private let values: Mutex<[Int]>
    private let running = Atomic<Bool>(true)

    init(_ callers: Int) {
        values = Mutex([Int](repeating: 0, count: callers))
    }

    var counts: [Int] { values.withLock { $0 } }
    var areRunning: Bool { running.load(ordering: .relaxed) }

    func count(_ caller: Int) {
        values.withLock { $0[caller] += 1 }
    }

    func stop() {
        running.store(false, ordering: .relaxed)
    }
}
