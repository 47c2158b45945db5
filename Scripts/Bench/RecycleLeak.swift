#if canImport(Glibc)
import Glibc
#endif
import Luminal
import LuminalWire
import LuminalWorker
import Synchronization

/// A photon leaking 10 MiB/s with a 100 MiB recycle threshold (sampled every second), called
/// without pause by `callers` tasks for `seconds`: the calls that failed, the recycles, and the
/// peak resident memory the supervisor measured (the recycle events say what they saw).
enum RecycleLeak {
    static func run(photon: String, seconds: Int, callers count: Int) async {
        let folder = makeTemporaryFolder()
        defer { removeTree(folder) }
        let package = folder + "/leaky"
        mkdir(package, 0o755)
        copyFile(photon, to: package + "/photon", mode: 0o755)
        writeFile(package + "/photon.json", Array(#"{"exec": "photon", "args": ["serve", "leaky"], "recycle": {"memory": "100M", "interval": 1}}"#.utf8), mode: 0o644)
        let loader = Loader()
        let events = loader.events()
        let handler = await startedPhoton(at: package, in: loader)
        func leak() async {
            do {
                _ = try await handler.call("leak", params: ["mibPerSecond": 10])
            } catch {
                fail("cannot start the leak: \(error)")
            }
        }
        await leak()
        let calls = CallCount()
        let watcher = Task { () -> (recycles: Int, peak: Int64) in
            var recycles = 0, peak: Int64 = 0
            for await event in events {
                if case .recycling(_, _, .memory(let bytes, _)) = event {
                    recycles += 1
                    peak = max(peak, bytes)
                }
                // Each new generation leaks as the first did.
                if case .reloaded = event { await leak() }
                if case .stopped = event { break }
            }
            return (recycles, peak)
        }
        let failures = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<count {
                group.addTask {
                    var failures: [String] = []
                    while calls.running {
                        do throws(LoaderError) {
                            _ = try await handler.call("echo", params: "steady")
                            calls.answered()
                        } catch {
                            failures.append(error.code.rawValue)
                        }
                    }
                    return failures
                }
            }
            try? await Task.sleep(for: .seconds(seconds))
            calls.stop()
            var failures: [String] = []
            for await failed in group { failures += failed }
            return failures
        }
        await loader.unloadAll(forceStop: true)
        let (recycles, peak) = await watcher.value
        var report = Report("recycle-leak")
        report["seconds"] = .int(Int64(seconds))
        report["callers"] = .int(Int64(count))
        report["calls_ok"] = .int(Int64(calls.ok))
        report["calls_failed"] = .int(Int64(failures.count))
        report["failed_codes"] = .array(Set(failures).sorted().map { .string($0) })
        report["recycles"] = .int(Int64(recycles))
        report["peak_mib"] = .double(Double(peak) / 1_048_576)
        report["threshold_mib"] = .double(100)
        report["interval_growth_mib"] = .double(10)
        report.print()
    }
}

/// Answered calls, and whether the callers go on.
private final class CallCount: Sendable {
    private let answers = Atomic<Int>(0)
    private let going = Atomic<Bool>(true)

    var ok: Int { answers.load(ordering: .relaxed) }
    var running: Bool { going.load(ordering: .relaxed) }

    func answered() { answers.add(1, ordering: .relaxed) }
    func stop() { going.store(false, ordering: .relaxed) }
}
