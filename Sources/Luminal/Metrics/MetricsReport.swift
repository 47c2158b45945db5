import LuminalSystem

/// The supervisor's metrics at one moment, written as Prometheus text (`Loader.metrics()`).
struct MetricsReport {
    /// The exposition, as UTF-8.
    let bytes: [UInt8]

    /// Reads every file's photons, counters and process tree, and the supervisor's own figures;
    /// `failed` are the paths of the photon files that failed to load, `loading` how many are
    /// being loaded for the first time.
    init(files: [(core: FileCore, handlers: [Handler])], failed: [String], loading: Int, context: LoaderContext) {
        let photons = files.flatMap { file in
            // The file's label once for all its photons.
            let fileLabel = "file=\"\(MetricsText.escapedLabel(file.core.path))\""
            return file.handlers.map { handler in
                PhotonFigures(labels: MetricsText.Labels(["photon": handler.name]), fileLabel: fileLabel, handler.snapshot, calls: handler.calls.reading)
            }
        }
        let (usage, age) = context.processFigures.usage(of: files.map(\.core))
        let trees = zip(files, usage).map { file, usage in
            FileFigures(labels: MetricsText.Labels(["file": file.core.path]), counters: file.core.counters, usage: usage,
                        reloadFailed: file.core.read { $0.reloadFailure != nil })
        }
        var out = MetricsText(reserving: 4096 + photons.count * 3000)
        Self.writeCalls(photons, &out)
        Self.writePhotons(photons, &out)
        Self.writeFiles(trees, age: age, period: context.processFigures.period, &out)
        Self.writeFilesNotLoaded(failed: failed, loading: loading, &out)
        Self.writeSupervisor(context, photons: photons.count, files: files.count, &out)
        bytes = out.bytes
    }

    /// One photon's labels and what the metrics show of it: the few fields of its snapshot
    /// they need (copied once per family written, the whole snapshot would cost more than its
    /// text).
    private struct PhotonFigures {
        let labels: MetricsText.Labels
        /// `file="…"`, escaped.
        let fileLabel: String
        let state: PhotonState
        let unresponsive: Bool
        let generation: Int
        let uptime: Duration?
        let restarts: Int
        let calls: CallReading

        init(labels: MetricsText.Labels, fileLabel: String, _ snapshot: PhotonSnapshot, calls: CallReading) {
            self.labels = labels
            self.fileLabel = fileLabel
            state = snapshot.state
            unresponsive = snapshot.unresponsive
            generation = snapshot.generation
            uptime = snapshot.uptime
            restarts = snapshot.restarts
            self.calls = calls
        }
    }

    /// One loaded photon file's labels and readings.
    private struct FileFigures {
        let labels: MetricsText.Labels
        let counters: FileCounters
        let usage: ProcessUsage
        /// Its newest version failed to come up while an older one serves.
        let reloadFailed: Bool
    }

    private static let outcomeLabels = CallOutcome.allCases.map { "outcome=\"\($0.label)\"" }
    private static let bucketLabels = (CallMetrics.bucketBounds.map(MetricsText.format) + ["+Inf"]).map { "le=\"\($0)\"" }

    private static func writeCalls(_ photons: [PhotonFigures], _ out: inout MetricsText) {
        out.family("luminal_calls_total", .counter, "Calls that ended, by outcome: ok, or the loader's error code (photonError, timeout, cancelled, workerExited, overloaded, ...).")
        for photon in photons {
            for outcome in CallOutcome.allCases where photon.calls.outcomes[outcome.rawValue] > 0 || outcome == .ok {
                out.sample("luminal_calls_total", photon.labels, extra: outcomeLabels[outcome.rawValue], photon.calls.outcomes[outcome.rawValue])
            }
        }
        out.family("luminal_call_duration_seconds", .histogram, "How long calls took, from the caller's side, whatever their outcome.")
        for photon in photons {
            for (bound, count) in zip(bucketLabels, photon.calls.cumulativeBuckets) {
                out.sample("luminal_call_duration_seconds_bucket", photon.labels, extra: bound, count)
            }
            out.sample("luminal_call_duration_seconds_sum", photon.labels, photon.calls.seconds)
            out.sample("luminal_call_duration_seconds_count", photon.labels, photon.calls.count)
        }
        out.family("luminal_calls_in_flight", .gauge, "Calls begun and not yet ended.")
        for photon in photons {
            out.sample("luminal_calls_in_flight", photon.labels, photon.calls.inFlight)
        }
    }

    private static func writePhotons(_ photons: [PhotonFigures], _ out: inout MetricsText) {
        // The file of each photon once, to join on, rather than as a label of every series.
        out.family("luminal_photon_info", .gauge, "1 for each loaded photon, labelled with its photon file.")
        for photon in photons {
            out.sample("luminal_photon_info", photon.labels, extra: photon.fileLabel, 1)
        }
        out.family("luminal_photon_state", .gauge, "1 for the state the photon is in (ready, starting, started, stopping, stopped, crashed, faulted, quarantined).")
        for photon in photons {
            out.sample("luminal_photon_state", photon.labels, extra: "state=\"\(photon.state.name)\"", 1)
        }
        out.family("luminal_photon_up", .gauge, "1 when the photon is started (takes calls), else 0.")
        for photon in photons {
            out.sample("luminal_photon_up", photon.labels, photon.state == .started ? 1 : 0)
        }
        out.family("luminal_photon_unresponsive", .gauge, "1 while the photon's worker is unresponsive: 3 calls in a row timed out on it with no reply between them, though it may answer pings.")
        for photon in photons {
            out.sample("luminal_photon_unresponsive", photon.labels, photon.unresponsive ? 1 : 0)
        }
        out.family("luminal_photon_generation", .gauge, "The worker generation hosting the photon: 1 for the first, +1 for each reload or restart.")
        for photon in photons {
            out.sample("luminal_photon_generation", photon.labels, photon.generation)
        }
        out.family("luminal_photon_uptime_seconds", .gauge, "How long the photon's generation has been up; absent once it ended.")
        for photon in photons {
            guard let uptime = photon.uptime else { continue }
            out.sample("luminal_photon_uptime_seconds", photon.labels, uptime.fractionalSeconds)
        }
        out.family("luminal_photon_restarts_total", .counter, "Restarts of the photon's worker after a failure.")
        for photon in photons {
            out.sample("luminal_photon_restarts_total", photon.labels, photon.restarts)
        }
    }

    private static func writeFiles(_ files: [FileFigures], age: Duration, period: Duration, _ out: inout MetricsText) {
        let counters: [(String, String, (FileCounters) -> UInt64)] = [
            ("luminal_file_reloads_total", "Reloads of the photon file that switched to a new generation.", { $0.reloads.load(ordering: .relaxed) }),
            ("luminal_file_rollbacks_total", "Reloads of the photon file that failed and were rolled back.", { $0.rollbacks.load(ordering: .relaxed) }),
            ("luminal_file_protocol_faults_total", "Workers of the photon file killed for breaking the protocol.", { $0.protocolFaults.load(ordering: .relaxed) }),
            ("luminal_file_missed_heartbeats_total", "Workers of the photon file killed for missing a heartbeat.", { $0.missedHeartbeats.load(ordering: .relaxed) }),
        ]
        for (name, help, value) in counters {
            out.family(name, .counter, help)
            for file in files { out.sample(name, file.labels, value(file.counters)) }
        }
        let usage: [(String, MetricsText.Kind, String, (ProcessUsage) -> Double)] = [
            ("luminal_file_processes", .gauge, "Processes in the photon file's live workers' trees.", { Double($0.processes) }),
            ("luminal_file_resident_memory_bytes", .gauge, "Resident memory of the photon file's live workers' trees.", { Double($0.residentBytes) }),
            ("luminal_file_cpu_seconds_total", .counter, "User and system CPU time of the processes now in the photon file's live workers' trees.", { $0.cpuSeconds }),
            ("luminal_file_open_fds", .gauge, "Open file descriptors of the photon file's live workers' trees.", { Double($0.openDescriptors) }),
        ]
        for (name, kind, help, value) in usage {
            out.family(name, kind, help)
            for file in files { out.sample(name, file.labels, value(file.usage)) }
        }
        out.family("luminal_process_figures_age_seconds", .gauge, "How old the luminal_file_processes, _resident_memory_bytes, _cpu_seconds_total and _open_fds figures are: /proc is read at most once every \(period) (0 right after a reading).")
        out.sample("luminal_process_figures_age_seconds", .none, age.fractionalSeconds)
        out.family("luminal_file_reload_failed", .gauge, "1 while the newest version of the photon file failed to come up (a reload rolled back, or a change made it unusable) and an older one serves.")
        for file in files { out.sample("luminal_file_reload_failed", file.labels, file.reloadFailed ? 1 : 0) }
    }

    /// The photon files that failed to load (one series each, and their count), and how many are
    /// being loaded for the first time.
    private static func writeFilesNotLoaded(failed: [String], loading: Int, _ out: inout MetricsText) {
        out.family("luminal_file_failed", .gauge, "1 for each photon file found and not loaded (it failed to load; nothing of it runs).")
        for path in failed { out.sample("luminal_file_failed", MetricsText.Labels(["file": path]), 1) }
        out.family("luminal_photon_files_failed", .gauge, "Photon files found and not loaded.")
        out.sample("luminal_photon_files_failed", .none, failed.count)
        out.family("luminal_photon_files_loading", .gauge, "Photon files whose first load is under way.")
        out.sample("luminal_photon_files_loading", .none, loading)
    }

    private static func writeSupervisor(_ context: LoaderContext, photons: Int, files: Int, _ out: inout MetricsText) {
        out.family("luminal_photons", .gauge, "Photons loaded.")
        out.sample("luminal_photons", .none, photons)
        out.family("luminal_photon_files", .gauge, "Photon files loaded.")
        out.sample("luminal_photon_files", .none, files)
        out.family("luminal_log_lines_dropped_total", .counter, "Log lines dropped because the log sink fell behind.")
        out.sample("luminal_log_lines_dropped_total", .none, context.log.queue.dropped)
        if let files = context.log.files {
            out.family("luminal_log_file_lines_dropped_total", .counter, "Log lines not written to the log files: too many waited, or the disk or the folder refused them.")
            out.sample("luminal_log_file_lines_dropped_total", .none, files.dropped)
        }
        out.family("luminal_events_dropped_total", .counter, "Events dropped for event subscribers that fell behind (once per subscriber).")
        out.sample("luminal_events_dropped_total", .none, context.events.dropped)
        out.family("luminal_hashed_bytes_total", .counter, "Bytes of photon files read to hash them (watching and loading).")
        out.sample("luminal_hashed_bytes_total", .none, FileDigest.bytesHashed)
        let own = ProcessTable.ownUsage()
        out.family("process_resident_memory_bytes", .gauge, "Resident memory of the supervisor.")
        out.sample("process_resident_memory_bytes", .none, own.residentBytes)
        out.family("process_cpu_seconds_total", .counter, "User and system CPU time of the supervisor.")
        out.sample("process_cpu_seconds_total", .none, own.cpuSeconds)
        out.family("process_open_fds", .gauge, "Open file descriptors of the supervisor.")
        out.sample("process_open_fds", .none, own.openDescriptors)
    }
}
