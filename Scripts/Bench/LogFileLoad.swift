#if canImport(Glibc)
import Glibc
#endif
import Luminal

/// `photons` plain executables each writing `rate` numbered lines a second for `seconds` into
/// rotating log files (64 KiB each, all kept): every line must be there once, whole, in order;
/// with the supervisor's CPU time over the writing.
enum LogFileLoad {
    static func run(photons count: Int, rate: Int, seconds: Int) async {
        let folder = makeTemporaryFolder()
        let logs = makeTemporaryFolder()
        defer {
            removeTree(folder)
            removeTree(logs)
        }
        let lines = rate * seconds
        // Ten writes a second, each of a tenth of the second's lines, then quiet.
        let script = """
            import sys, time
            name, total, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
            batch, start, sent = max(1, rate // 10), time.monotonic(), 0
            while sent < total:
                count = min(batch, total - sent)
                sys.stdout.write("".join("%s %d\\n" % (name, sent + i) for i in range(count)))
                sys.stdout.flush()
                sent += count
                time.sleep(max(0, start + sent / rate - time.monotonic()))
            time.sleep(3600)
            """
        for index in 0..<count {
            let package = folder + "/p\(index)"
            mkdir(package, 0o755)
            writeFile(package + "/emit.py", Array(script.utf8), mode: 0o644)
            writeFile(package + "/run", Array("#!/bin/sh\nexec /usr/bin/python3 emit.py p\(index) \(lines) \(rate)\n".utf8), mode: 0o755)
            writeFile(package + "/photon.json", Array(#"{"exec": "run", "protocol": "none", "name": "p\#(index)", "ready": 0.1}"#.utf8), mode: 0o644)
        }
        var configuration = LoaderConfiguration()
        var files = LogFileOptions(directory: logs, root: folder)
        files.maxBytes = 64 * 1024
        files.keep = 100_000
        configuration.logFiles = files
        configuration.health.interval = nil
        let loader = Loader(logging: true, configuration: configuration, logSink: { _ in })
        let before = cpuSeconds()
        let clock = ContinuousClock()
        let start = clock.now
        do {
            for handler in try await loader.loadPhotons(in: folder, base: nil) { try await handler.start() }
        } catch {
            fail("cannot load \(count) photons: \(error)")
        }
        // The writers are done after `seconds`; then the files catch up: until their size stops
        // growing for a second (or 30 s pass). The check reads them after the CPU is taken.
        try? await Task.sleep(for: .seconds(seconds))
        let deadline = clock.now + .seconds(30)
        var size = -1
        while clock.now < deadline {
            loader.flushLog()
            let now = entries(of: logs).reduce(0) { total, name in
                var info = stat()
                return total + (stat(logs + "/" + name, &info) == 0 ? Int(info.st_size) : 0)
            }
            if now == size { break }
            size = now
            try? await Task.sleep(for: .seconds(1))
        }
        let elapsed = start.duration(to: clock.now)
        let cpu = cpuSeconds() - before
        let check = Check(count: count, lines: lines, logs: logs)
        let metrics = await loader.metrics()
        await loader.unloadAll(forceStop: true)
        var report = Report("log-files")
        report["photons"] = .int(Int64(count))
        report["lines_per_photon"] = .int(Int64(lines))
        report["seconds"] = .int(Int64(seconds))
        report["elapsed_s"] = .double(milliseconds(elapsed) / 1000)
        report["lines_lost"] = .int(Int64(check.missing))
        report["lines_split"] = .int(Int64(check.malformed))
        report["lines_repeated"] = .int(Int64(check.repeated))
        report["files"] = .int(Int64(check.files))
        report["dropped_counted"] = .double(dropped(in: metrics))
        report["supervisor_cpu_s"] = .double(cpu)
        report.print()
    }

    /// What the log files hold: lines missing, lines that are not whole, lines seen twice.
    struct Check {
        var missing = 0, malformed = 0, repeated = 0, files = 0

        init(count: Int, lines: Int, logs: String) {
            var seen = Array(repeating: [Bool](repeating: false, count: lines), count: count)
            var found = 0
            for name in entries(of: logs) where name.hasPrefix("p") {
                files += 1
                for line in String(decoding: readFile(logs + "/" + name), as: UTF8.self).split(separator: "\n") {
                    // "2026-12-01T15:07:25.123Z [p7] p7 123"
                    let fields = line.split(separator: " ")
                    guard fields.count == 4, fields[1] == "[\(fields[2])]", let photon = Int(fields[2].dropFirst()), photon < count,
                          let number = Int(fields[3]), number >= 0, number < lines else {
                        malformed += 1
                        continue
                    }
                    if seen[photon][number] { repeated += 1 } else { seen[photon][number] = true; found += 1 }
                }
            }
            missing = count * lines - found
        }
    }

    private static func dropped(in metrics: String) -> Double {
        metrics.split(separator: "\n").first { $0.hasPrefix("luminal_log_file_lines_dropped_total ") }
            .flatMap { Double($0.split(separator: " ").last ?? "") } ?? -1
    }
}
