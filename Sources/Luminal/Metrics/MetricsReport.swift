/// The supervisor's metrics at one moment, written as Prometheus text (`Loader.metrics()`).
struct MetricsReport {
    /// The exposition.
    let text: String

    /// Reads every file's photons, counters and process tree, and the supervisor's own figures.
    init(files: [(core: FileCore, handlers: [Handler])], context: LoaderContext) {
        let photons = files.flatMap { file in file.handlers.map { ($0, $0.snapshot, $0.calls.reading) } }
        let table = ProcessTable()
        let trees = files.map { file in
            (file.core, file.core.read(\.liveConnections).reduce(into: ProcessUsage()) { $0.add(table.usage(ofTree: $1.pid)) })
        }
        var out = MetricsText()
        Self.writeCalls(photons, &out)
        Self.writePhotons(photons, &out)
        Self.writeFiles(trees, &out)
        Self.writeSupervisor(context, photons: photons.count, files: files.count, &out)
        text = out.text
    }

    private static func writeCalls(_ photons: [(Handler, PhotonSnapshot, CallReading)], _ out: inout MetricsText) {
        out.family("luminal_calls_total", .counter, "Calls that ended, by outcome: ok, or the loader's error code (photonError, timeout, cancelled, workerExited, overloaded, ...).")
        for (handler, snapshot, reading) in photons {
            for outcome in CallOutcome.allCases where reading.outcomes[outcome.rawValue] > 0 || outcome == .ok {
                out.sample("luminal_calls_total", ["photon": handler.name, "file": snapshot.filePath, "outcome": outcome.label],
                           reading.outcomes[outcome.rawValue])
            }
        }
        out.family("luminal_call_duration_seconds", .histogram, "How long calls took, from the caller's side, whatever their outcome.")
        for (handler, snapshot, reading) in photons {
            let bounds = CallMetrics.bucketBounds.map(MetricsText.format) + ["+Inf"]
            for (bound, count) in zip(bounds, reading.cumulativeBuckets) {
                out.sample("luminal_call_duration_seconds_bucket", ["photon": handler.name, "file": snapshot.filePath, "le": bound], count)
            }
            out.sample("luminal_call_duration_seconds_sum", ["photon": handler.name, "file": snapshot.filePath], reading.seconds)
            out.sample("luminal_call_duration_seconds_count", ["photon": handler.name, "file": snapshot.filePath], reading.count)
        }
        out.family("luminal_calls_in_flight", .gauge, "Calls begun and not yet ended.")
        for (handler, snapshot, reading) in photons {
            out.sample("luminal_calls_in_flight", ["photon": handler.name, "file": snapshot.filePath], reading.inFlight)
        }
    }

    private static func writePhotons(_ photons: [(Handler, PhotonSnapshot, CallReading)], _ out: inout MetricsText) {
        out.family("luminal_photon_state", .gauge, "1 for the state the photon is in (ready, starting, started, stopping, stopped, crashed, faulted, quarantined).")
        for (handler, snapshot, _) in photons {
            out.sample("luminal_photon_state", ["photon": handler.name, "file": snapshot.filePath, "state": snapshot.state.name], 1)
        }
        out.family("luminal_photon_up", .gauge, "1 when the photon is started (takes calls), else 0.")
        for (handler, snapshot, _) in photons {
            out.sample("luminal_photon_up", ["photon": handler.name, "file": snapshot.filePath], snapshot.state == .started ? 1 : 0)
        }
        out.family("luminal_photon_generation", .gauge, "The worker generation hosting the photon: 1 for the first, +1 for each reload or restart.")
        for (handler, snapshot, _) in photons {
            out.sample("luminal_photon_generation", ["photon": handler.name, "file": snapshot.filePath], snapshot.generation)
        }
        out.family("luminal_photon_uptime_seconds", .gauge, "How long the photon's generation has been up; absent once it ended.")
        for (handler, snapshot, _) in photons {
            guard let uptime = snapshot.uptime else { continue }
            out.sample("luminal_photon_uptime_seconds", ["photon": handler.name, "file": snapshot.filePath], uptime.fractionalSeconds)
        }
        out.family("luminal_photon_restarts_total", .counter, "Restarts of the photon's worker after a failure.")
        for (handler, snapshot, _) in photons {
            out.sample("luminal_photon_restarts_total", ["photon": handler.name, "file": snapshot.filePath], snapshot.restarts)
        }
    }

    private static func writeFiles(_ files: [(FileCore, ProcessUsage)], _ out: inout MetricsText) {
        let counters: [(String, String, (FileCounters) -> UInt64)] = [
            ("luminal_file_reloads_total", "Reloads of the photon file that switched to a new generation.", { $0.reloads.load(ordering: .relaxed) }),
            ("luminal_file_rollbacks_total", "Reloads of the photon file that failed and were rolled back.", { $0.rollbacks.load(ordering: .relaxed) }),
            ("luminal_file_protocol_faults_total", "Workers of the photon file killed for breaking the protocol.", { $0.protocolFaults.load(ordering: .relaxed) }),
            ("luminal_file_missed_heartbeats_total", "Workers of the photon file killed for missing a heartbeat.", { $0.missedHeartbeats.load(ordering: .relaxed) }),
        ]
        for (name, help, value) in counters {
            out.family(name, .counter, help)
            for (core, _) in files { out.sample(name, ["file": core.path], value(core.counters)) }
        }
        let usage: [(String, MetricsText.Kind, String, (ProcessUsage) -> Double)] = [
            ("luminal_file_processes", .gauge, "Processes in the photon file's live workers' trees.", { Double($0.processes) }),
            ("luminal_file_resident_memory_bytes", .gauge, "Resident memory of the photon file's live workers' trees.", { Double($0.residentBytes) }),
            ("luminal_file_cpu_seconds_total", .counter, "User and system CPU time of the processes now in the photon file's live workers' trees.", { $0.cpuSeconds }),
            ("luminal_file_open_fds", .gauge, "Open file descriptors of the photon file's live workers' trees.", { Double($0.openDescriptors) }),
        ]
        for (name, kind, help, value) in usage {
            out.family(name, kind, help)
            for (core, tree) in files { out.sample(name, ["file": core.path], value(tree)) }
        }
    }

    private static func writeSupervisor(_ context: LoaderContext, photons: Int, files: Int, _ out: inout MetricsText) {
        out.family("luminal_photons", .gauge, "Photons loaded.")
        out.sample("luminal_photons", [:], photons)
        out.family("luminal_photon_files", .gauge, "Photon files loaded.")
        out.sample("luminal_photon_files", [:], files)
        out.family("luminal_log_lines_dropped_total", .counter, "Log lines dropped because the log sink fell behind.")
        out.sample("luminal_log_lines_dropped_total", [:], context.log.queue.dropped)
        if let files = context.log.files {
            out.family("luminal_log_file_lines_dropped_total", .counter, "Log lines not written to the log files: too many waited, or the disk or the folder refused them.")
            out.sample("luminal_log_file_lines_dropped_total", [:], files.dropped)
        }
        out.family("luminal_events_dropped_total", .counter, "Events dropped for event subscribers that fell behind (once per subscriber).")
        out.sample("luminal_events_dropped_total", [:], context.events.dropped)
        let own = ProcessTable.ownUsage()
        out.family("process_resident_memory_bytes", .gauge, "Resident memory of the supervisor.")
        out.sample("process_resident_memory_bytes", [:], own.residentBytes)
        out.family("process_cpu_seconds_total", .counter, "User and system CPU time of the supervisor.")
        out.sample("process_cpu_seconds_total", [:], own.cpuSeconds)
        out.family("process_open_fds", .gauge, "Open file descriptors of the supervisor.")
        out.sample("process_open_fds", [:], own.openDescriptors)
    }
}
