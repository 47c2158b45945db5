extension Loader {
    /// Every metric of the supervisor and its photons, in Prometheus' text exposition format
    /// (version 0.0.4): calls by outcome, call durations, calls in flight, state, generation,
    /// uptime and restarts per photon; reloads, rollbacks, protocol faults, missed heartbeats and
    /// what each photon file's process tree uses; whether its newest version failed to reload;
    /// the photon files that failed to load, and those being loaded; log lines and events dropped; the supervisor's own
    /// memory, CPU time and descriptors.
    ///
    /// The loader's actor only lists the files; the photons' states, their counters and `/proc`
    /// are read off it, so a scrape never holds up loads, reloads or calls.
    public nonisolated func metrics() async -> String {
        String(decoding: await metricsExposition().joined(), as: UTF8.self)
    }

    /// `metrics()` as UTF-8, in pieces to be sent one after the other, as the HTTP endpoint sends it.
    package nonisolated func metricsExposition() async -> [[UInt8]] {
        context.metrics.text(of: await metricsListing(), context: context)
    }

    /// The files in the order the metrics list them.
    func metricsListing() -> FileListing {
        records.listing()
    }
}
