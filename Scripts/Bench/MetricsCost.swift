#if canImport(Glibc)
import Glibc
#endif
import Luminal
import LuminalDaemon

/// What metrics cost: the call figures of `CallLatency` with the endpoint scraped every second
/// against the same without a scrape, round by round in one run (calls are counted either way:
/// the counters cannot be turned off); then `GET /metrics` with `photons` photons loaded, back to
/// back, and the supervisor's CPU time over `seconds` at one scrape a second and idle.
enum MetricsCost {
    static func calls(photon: String, method: String, roundTrips: Int, pipelined: Int, window: Int, rounds: Int) async {
        let loader = Loader()
        let handler = await startedPhoton(at: photon, in: loader)
        let server = endpoint(loader)
        var quiet: [CallLatency.Figures] = [], scraped = quiet
        var scrapes = 0
        for round in 0..<(2 * rounds) {
            let scraper = round % 2 == 1 ? Scraper(port: server.port, every: .seconds(1)) : nil
            let figures = await CallLatency.measure(handler, method, roundTrips: roundTrips, pipelined: pipelined, window: window)
            if let scraper {
                scrapes += scraper.stop().scrapes
                scraped.append(figures)
            } else {
                quiet.append(figures)
            }
        }
        server.close()
        await loader.unloadAll()
        var report = Report("metrics-calls")
        report["rounds"] = .int(Int64(rounds))
        report["scrapes"] = .int(Int64(scrapes))
        for (name, runs) in [("quiet", quiet), ("scraped", scraped)] {
            report.add("\(name)_round_trip", Stats(runs.flatMap(\.roundTrips)))
            report["\(name)_pipelined_per_s"] = .double(runs.map(\.perSecond).sorted()[runs.count / 2])
        }
        report.print()
    }

    static func scrape(photons count: Int, scrapes: Int, seconds: Int) async {
        let folder = makeTemporaryFolder()
        defer { removeTree(folder) }
        writeChaosPhotons(count, in: folder)
        var configuration = LoaderConfiguration()
        configuration.health.interval = nil // the idle supervisor's CPU is the scrapes' alone
        let loader = Loader(configuration: configuration)
        do {
            for handler in try await loader.loadPhotons(in: folder) { try await handler.start() }
        } catch {
            fail("cannot load \(count) photons: \(error)")
        }
        let server = endpoint(loader)
        for _ in 0..<3 { _ = Scrape.once(port: server.port) }
        var latencies: [Duration] = []
        var bytes = 0
        for _ in 0..<scrapes {
            let (took, size) = Scrape.once(port: server.port)
            latencies.append(took)
            bytes = size
        }
        // The floor: reading every process's stat file and descriptor count once, as a scrape must.
        let floor = (0..<scrapes).map { _ in procfsPass() }
        var before = cpuSeconds()
        try? await Task.sleep(for: .seconds(seconds))
        let idle = cpuSeconds() - before
        before = cpuSeconds()
        let scraper = Scraper(port: server.port, every: .seconds(1))
        try? await Task.sleep(for: .seconds(seconds))
        let (scraped, scraperCPU) = scraper.stop()
        let busy = cpuSeconds() - before - scraperCPU
        server.close()
        await loader.unloadAll(forceStop: true)
        var report = Report("metrics-scrape")
        report["photons"] = .int(Int64(count))
        report["bytes"] = .int(Int64(bytes))
        report.add("scrape", Stats(latencies))
        report.add("procfs_floor", Stats(floor))
        report["seconds"] = .int(Int64(seconds))
        report["scrapes_timed"] = .int(Int64(scraped))
        report["idle_cpu_s"] = .double(idle)
        report["scraped_cpu_s"] = .double(busy)
        report["scraper_cpu_s"] = .double(scraperCPU)
        report.print()
    }

    /// One pass over `/proc`: each process's `stat` read and its `fd` folder's size taken.
    private static func procfsPass() -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        var buffer = [UInt8](repeating: 0, count: 1024)
        for name in entries(of: "/proc") where name.first?.isNumber == true {
            let fd = open("/proc/\(name)/stat", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            _ = read(fd, &buffer, buffer.count)
            close(fd)
            var info = stat()
            _ = stat("/proc/\(name)/fd", &info)
        }
        return start.duration(to: clock.now)
    }

    private static func endpoint(_ loader: Loader) -> MetricsServer {
        do {
            return try MetricsServer(loader: loader, host: "127.0.0.1", port: 0)
        } catch {
            fail("cannot serve metrics: \(error)")
        }
    }
}
