import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import LuminalDaemon
import _LuminalCShims
import LuminalWire
import Synchronization

/// A real `luminal run` (the release binary beside this one) on one chaos photon, with `calls`
/// calls of `ms` milliseconds in flight over its control socket, is sent SIGTERM while a prober
/// asks `GET /readyz` without pause: how long from the signal to the first 503, and how many of
/// the calls failed (the target is none: they drain before the worker stops). `runs` times.
enum SigtermDrain {
    /// Calls pipelined on one control connection (the socket allows 8).
    static let callsPerConnection = 5

    static func run(photon: String, calls: Int, milliseconds ms: Int, runs: Int) async {
        let luminal = parent(executablePath()) + "/luminal"
        var toFirst503: [Duration] = [], failed = 0, failedCodes = Set<String>(), exits: [Int32] = []
        for _ in 0..<runs {
            let run = runOnce(luminal: luminal, photon: photon, calls: calls, ms: ms)
            toFirst503.append(run.toFirst503)
            failed += run.failed.count
            failedCodes.formUnion(run.failed)
            exits.append(run.exit)
        }
        var report = Report("sigterm")
        report["calls"] = .int(Int64(calls))
        report["call_ms"] = .int(Int64(ms))
        report["runs"] = .int(Int64(runs))
        report.add("signal_to_503", Stats(toFirst503))
        report["calls_failed"] = .int(Int64(failed))
        report["failed_codes"] = .array(failedCodes.sorted().map { .string($0) })
        report["exit_statuses"] = .array(exits.map { .int(Int64($0)) })
        report.print()
    }

    /// One run: the time from SIGTERM to the first 503, the failed calls' codes, the exit status.
    private static func runOnce(luminal: String, photon: String, calls: Int, ms: Int) -> (toFirst503: Duration, failed: [String], exit: Int32) {
        let scratch = makeTemporaryFolder()
        defer { removeTree(scratch) }
        let photons = scratch + "/photons"
        mkdir(photons, 0o755)
        writeFile(photons + "/first", Array("#!/bin/sh\nexec '\(photon)' serve first\n".utf8), mode: 0o755)
        let control = scratch + "/control.sock"
        var pipe: [Int32] = [-1, -1]
        guard luminal_pipe2(&pipe, O_CLOEXEC) == 0 else { fail("pipe2 failed") }
        let pid = BareSpawn.spawn(luminal, ["run", photons, "--no-watch", "--quiet", "--control", control,
                                            "--state", scratch + "/state", "--metrics", "127.0.0.1:0"], stderr: pipe[1])
        close(pipe[1])
        let stderr = pipe[0]
        var lines = LineReader(fd: stderr)
        var port: UInt16 = 0
        while let line = lines.next() {
            let marker = "metrics on http://127.0.0.1:"
            if line.contains(marker), let tail = line.split(separator: ":").last {
                port = UInt16(tail.prefix { $0.isNumber }) ?? 0
            }
            if line.contains("photons started from") { break }
        }
        guard port != 0 else { fail("luminal run did not say its metrics port") }
        // Its stderr is drained from now on, so that it never blocks writing to it.
        DispatchQueue(label: "luminal-bench.stderr").async {
            var chunk = [UInt8](repeating: 0, count: 4096)
            while read(stderr, &chunk, chunk.count) > 0 {}
            close(stderr)
        }

        let clients = (0..<(calls + callsPerConnection - 1) / callsPerConnection).map { _ in
            do throws(ControlClient.Failure) { return try ControlClient(path: control) } catch { fail("\(error)") }
        }
        var sent = 0
        for client in clients {
            for _ in 0..<min(callsPerConnection, calls - sent) {
                do throws(ControlClient.Failure) {
                    try client.send(ControlRequest(.call, targets: ["first"], method: "sleep", params: ["ms": .int(Int64(ms))]))
                } catch { fail("\(error)") }
                sent += 1
            }
        }
        // Every connection's first call running (the metrics say so; a connection runs its calls
        // one after the other), the others waiting behind it: then the signal.
        let clock = ContinuousClock()
        let waitUntil = clock.now + .seconds(10)
        while inFlight(port: port) < clients.count {
            guard clock.now < waitUntil else { fail("the \(clients.count) connections' calls were never in flight at once (calls of \(ms) ms may be too short)") }
        }
        let prober = Prober(port: port)
        let signalled = clock.now
        kill(pid, SIGTERM)
        var failed: [String] = []
        var left = calls
        for client in clients where left > 0 {
            for _ in 0..<min(callsPerConnection, left) {
                do throws(ControlClient.Failure) {
                    if case .failure(let failure) = try client.receive() { failed.append(failure.code.rawValue) }
                } catch {
                    failed.append("connectionLost")
                }
                left -= 1
            }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard let first503 = prober.stop() else { fail("/readyz never answered 503 after SIGTERM") }
        return (signalled.duration(to: first503), failed, (status >> 8) & 0xFF)
    }

    /// `luminal_calls_in_flight` of photon `first`, scraped.
    private static func inFlight(port: UInt16) -> Int {
        let text = String(decoding: Scrape.get("/metrics", port: port), as: UTF8.self)
        let prefix = "luminal_calls_in_flight{photon=\"first\"} "
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return 0 }
        return Int(Double(line.dropFirst(prefix.count)) ?? 0)
    }

}

/// Asks `GET /readyz` without pause on a thread of its own, and notes when the first 503 arrived.
private final class Prober: Sendable {
    private let stopped = Atomic<Bool>(false)
    private let first = Mutex<ContinuousClock.Instant?>(nil)
    private let done = DispatchSemaphore(value: 0)

    init(port: UInt16) {
        DispatchQueue(label: "luminal-bench.prober").async { [self] in
            let unavailable = Array("HTTP/1.1 503 ".utf8)
            while !stopped.load(ordering: .relaxed) {
                let response = Scrape.get("/readyz", port: port)
                if response.starts(with: unavailable) {
                    let now = ContinuousClock.now
                    first.withLock { $0 = $0 ?? now }
                    break
                }
            }
            done.signal()
        }
    }

    /// Stops probing; when the first 503 arrived, if one did.
    func stop() -> ContinuousClock.Instant? {
        stopped.store(true, ordering: .relaxed)
        done.wait()
        return first.withLock { $0 }
    }
}

/// The lines a descriptor delivers, read as they come.
private struct LineReader {
    let fd: Int32
    private var pending: [UInt8] = []

    init(fd: Int32) {
        self.fd = fd
    }

    /// The next line, without its newline; nil at the end.
    mutating func next() -> String? {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                defer { pending.removeSubrange(...newline) }
                return String(decoding: pending[..<newline], as: UTF8.self)
            }
            let count = read(fd, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return nil }
            pending += chunk[..<count]
        }
    }
}
