#if canImport(Glibc)
import Glibc
#endif
import Luminal
import LuminalWire
import Synchronization

/// Streamed results (PROTOCOL.md §3.5) from a Swift photon: `count` parts of `bytes` bytes taken
/// as fast as they come, with the supervisor's resident memory sampled every 10 ms; then a
/// consumer taking one part every 10 ms for `slowSeconds`, its memory sampled every second, and
/// how long the photon spent waiting for credit.
enum StreamFlow {
    static func run(chaos: String, count: Int, bytes: Int, window: Int, slowSeconds: Int) async {
        let loader = Loader()
        let handler = await startedPhoton(at: chaos, in: loader)
        // A short stream first: what any stream allocates once is not growth.
        await drain(handler.stream("stream", params: ["count": 2000, "bytes": .int(Int64(bytes))], window: window))
        let before = Memory.now().residentKiB
        let peak = Atomic<Int>(before)
        let sampler = Task {
            while !Task.isCancelled {
                let now = Memory.now().residentKiB
                if now > peak.load(ordering: .relaxed) { peak.store(now, ordering: .relaxed) }
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        let clock = ContinuousClock()
        let start = clock.now
        let final = await drain(handler.stream("stream", params: ["count": .int(Int64(count)), "bytes": .int(Int64(bytes))], window: window))
        let seconds = milliseconds(start.duration(to: clock.now)) / 1000
        sampler.cancel()
        guard final["sent"]?.intValue == Int64(count) else { fail("the stream ended with \(final)") }

        // The slow consumer: one part every 10 ms.
        let slowCount = slowSeconds * 100
        var samples: [Int] = []
        let slowStart = clock.now
        var taken = 0
        var slowFinal: JSONValue = nil
        do {
            for try await element in handler.stream("stream", params: ["count": .int(Int64(slowCount)), "bytes": .int(Int64(bytes))], window: window) {
                if element.stringValue == nil { slowFinal = element; break }
                taken += 1
                if taken % 100 == 0 { samples.append(Memory.now().residentKiB) }
                try? await Task.sleep(for: .milliseconds(10))
            }
        } catch {
            fail("the slow stream failed: \(error)")
        }
        let slowElapsed = milliseconds(slowStart.duration(to: clock.now)) / 1000
        await loader.unloadAll()
        var report = Report("stream")
        report["parts"] = .int(Int64(count))
        report["part_bytes"] = .int(Int64(bytes))
        report["window"] = .int(Int64(window))
        report["seconds"] = .double(seconds)
        report["parts_per_s"] = .double(Double(count) / seconds)
        report["bytes_per_s"] = .double(Double(count * bytes) / seconds)
        report["rss_before_kib"] = .int(Int64(before))
        report["rss_growth_kib"] = .int(Int64(peak.load(ordering: .relaxed) - before))
        report["slow_seconds"] = .double(slowElapsed)
        report["slow_rss_min_kib"] = .int(Int64(samples.min() ?? 0))
        report["slow_rss_max_kib"] = .int(Int64(samples.max() ?? 0))
        report["slow_rss_kib"] = .array(samples.map { .int(Int64($0)) })
        report["slow_photon_waited_s"] = .double(Double(slowFinal["waited_ns"]?.intValue ?? 0) / 1e9)
        report.print()
    }

    /// Takes every element of `stream`; the last one (the method's final value).
    @discardableResult
    private static func drain(_ stream: PhotonStream) async -> JSONValue {
        var last: JSONValue = nil
        do {
            for try await element in stream { last = element }
        } catch {
            fail("the stream failed: \(error)")
        }
        return last
    }
}
