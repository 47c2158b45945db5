import LuminalSystem

/// A photon as its samples name it.
struct PhotonSubject: Sendable {
    /// The photon's name.
    let name: String
    /// `photon="…"`.
    let labels: MetricsText.Labels
    /// `file="…"`, escaped: the photon's file, on its `luminal_photon_info` sample.
    let fileLabel: String

    init(name: String, file: String) {
        self.name = name
        labels = MetricsText.Labels(["photon": name])
        fileLabel = "file=\"\(MetricsText.escapedLabel(file))\""
    }
}

/// Where a photon stands in its file's lifecycle, as its samples show it.
struct PhotonStanding: Equatable {
    /// The name of its state (`PhotonState.name`): a constant string, compared at no cost.
    let state: String
    /// Started: it takes calls.
    let started: Bool
    let unresponsive: Bool
    let generation: Int
    /// Of every instance of a pool.
    var restarts: Int
    /// Since when its generation is up, as a time after `epoch` (a `Duration` is copied as
    /// plain bytes, an instant is not); nil once it ended.
    let since: Duration?

    /// The instant `since` counts from.
    static let epoch = ContinuousClock.now

    init<Connection>(_ record: PhotonRecord, in lifecycle: FileLifecycle<Connection>) {
        state = record.state.name
        started = record.state == .started
        unresponsive = lifecycle.isUnresponsive(record)
        generation = record.generation
        restarts = record.restarts
        since = record.state.isFinal ? nil : Self.epoch.duration(to: record.since)
    }
}

/// What a photon's kept samples show: all of it but its uptime, which changes at every scrape.
struct PhotonFigures: Equatable {
    let standing: PhotonStanding
    let calls: CallReading
}

/// What a photon file's samples show.
struct FileFigures: Equatable {
    let reloads: UInt64
    let rollbacks: UInt64
    let protocolFaults: UInt64
    let missedHeartbeats: UInt64
    let usage: ProcessUsage
    /// Its newest version failed to come up while an older one serves.
    let reloadFailed: Bool

    init(_ counters: FileCounters, usage: ProcessUsage, reloadFailed: Bool) {
        reloads = counters.reloads.load(ordering: .relaxed)
        rollbacks = counters.rollbacks.load(ordering: .relaxed)
        protocolFaults = counters.protocolFaults.load(ordering: .relaxed)
        missedHeartbeats = counters.missedHeartbeats.load(ordering: .relaxed)
        self.usage = usage
        self.reloadFailed = reloadFailed
    }
}

/// The families with a series per photon and per photon file, in the order they are written.
enum MetricsFamilies {
    private static let outcomeLabels = CallOutcome.allCases.map { "outcome=\"\($0.label)\"" }
    private static let bucketLabels = (CallMetrics.bucketBounds.map(MetricsText.format) + ["+Inf"]).map { "le=\"\($0)\"" }

    /// Each photon's families but its uptime (`luminal_photon_uptime_seconds`, written at every scrape).
    static let photon: [MetricsFamily<PhotonSubject, PhotonFigures>] = [
        MetricsFamily(name: "luminal_calls_total", kind: .counter, help: "Calls that ended, by outcome: ok, or the loader's error code (photonError, timeout, cancelled, workerExited, overloaded, ...).") { photon, figures, out in
            for outcome in CallOutcome.allCases where figures.calls.outcomes[outcome.rawValue] > 0 || outcome == .ok {
                out.sample("luminal_calls_total", photon.labels, extra: outcomeLabels[outcome.rawValue], figures.calls.outcomes[outcome.rawValue])
            }
        },
        MetricsFamily(name: "luminal_call_duration_seconds", kind: .histogram, help: "How long calls took, from the caller's side, whatever their outcome.") { photon, figures, out in
            for (index, bound) in bucketLabels.enumerated() {
                out.sample("luminal_call_duration_seconds_bucket", photon.labels, extra: bound, figures.calls.cumulativeBuckets[index])
            }
            out.sample("luminal_call_duration_seconds_sum", photon.labels, figures.calls.seconds)
            out.sample("luminal_call_duration_seconds_count", photon.labels, figures.calls.count)
        },
        MetricsFamily(name: "luminal_calls_in_flight", kind: .gauge, help: "Calls begun and not yet ended.") { photon, figures, out in
            out.sample("luminal_calls_in_flight", photon.labels, figures.calls.inFlight)
        },
        // The file of each photon once, to join on, rather than as a label of every series.
        MetricsFamily(name: "luminal_photon_info", kind: .gauge, help: "1 for each loaded photon, labelled with its photon file.") { photon, _, out in
            out.sample("luminal_photon_info", photon.labels, extra: photon.fileLabel, 1)
        },
        MetricsFamily(name: "luminal_photon_state", kind: .gauge, help: "1 for the state the photon is in (ready, starting, started, stopping, stopped, crashed, faulted, quarantined).") { photon, figures, out in
            out.sample("luminal_photon_state", photon.labels, extra: "state=\"\(figures.standing.state)\"", 1)
        },
        MetricsFamily(name: "luminal_photon_up", kind: .gauge, help: "1 when the photon is started (takes calls), else 0.") { photon, figures, out in
            out.sample("luminal_photon_up", photon.labels, figures.standing.started ? 1 : 0)
        },
        MetricsFamily(name: "luminal_photon_unresponsive", kind: .gauge, help: "1 while the photon's worker is unresponsive: 3 calls in a row timed out on it with no reply between them, though it may answer pings.") { photon, figures, out in
            out.sample("luminal_photon_unresponsive", photon.labels, figures.standing.unresponsive ? 1 : 0)
        },
        MetricsFamily(name: "luminal_photon_generation", kind: .gauge, help: "The worker generation hosting the photon: 1 for the first, +1 for each reload or restart.") { photon, figures, out in
            out.sample("luminal_photon_generation", photon.labels, figures.standing.generation)
        },
        MetricsFamily(name: "luminal_photon_restarts_total", kind: .counter, help: "Restarts of the photon's worker after a failure.") { photon, figures, out in
            out.sample("luminal_photon_restarts_total", photon.labels, figures.standing.restarts)
        },
    ]

    /// Each photon file's families.
    static let file: [MetricsFamily<MetricsText.Labels, FileFigures>] = [
        MetricsFamily(name: "luminal_file_reloads_total", kind: .counter, help: "Reloads of the photon file that switched to a new generation.") { labels, figures, out in
            out.sample("luminal_file_reloads_total", labels, figures.reloads)
        },
        MetricsFamily(name: "luminal_file_rollbacks_total", kind: .counter, help: "Reloads of the photon file that failed and were rolled back.") { labels, figures, out in
            out.sample("luminal_file_rollbacks_total", labels, figures.rollbacks)
        },
        MetricsFamily(name: "luminal_file_protocol_faults_total", kind: .counter, help: "Workers of the photon file killed for breaking the protocol.") { labels, figures, out in
            out.sample("luminal_file_protocol_faults_total", labels, figures.protocolFaults)
        },
        MetricsFamily(name: "luminal_file_missed_heartbeats_total", kind: .counter, help: "Workers of the photon file killed for missing a heartbeat.") { labels, figures, out in
            out.sample("luminal_file_missed_heartbeats_total", labels, figures.missedHeartbeats)
        },
        MetricsFamily(name: "luminal_file_processes", kind: .gauge, help: "Processes in the photon file's live workers' trees.") { labels, figures, out in
            out.sample("luminal_file_processes", labels, figures.usage.processes)
        },
        MetricsFamily(name: "luminal_file_resident_memory_bytes", kind: .gauge, help: "Resident memory of the photon file's live workers' trees.") { labels, figures, out in
            out.sample("luminal_file_resident_memory_bytes", labels, figures.usage.residentBytes)
        },
        MetricsFamily(name: "luminal_file_cpu_seconds_total", kind: .counter, help: "User and system CPU time of the processes now in the photon file's live workers' trees.") { labels, figures, out in
            out.sample("luminal_file_cpu_seconds_total", labels, figures.usage.cpuSeconds)
        },
        MetricsFamily(name: "luminal_file_open_fds", kind: .gauge, help: "Open file descriptors of the photon file's live workers' trees.") { labels, figures, out in
            out.sample("luminal_file_open_fds", labels, figures.usage.openDescriptors)
        },
        MetricsFamily(name: "luminal_file_reload_failed", kind: .gauge, help: "1 while the newest version of the photon file failed to come up (a reload rolled back, or a change made it unusable) and an older one serves.") { labels, figures, out in
            out.sample("luminal_file_reload_failed", labels, figures.reloadFailed ? 1 : 0)
        },
    ]
}
