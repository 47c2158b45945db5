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
        String(decoding: await metricsExposition(), as: UTF8.self)
    }

    /// `metrics()` as UTF-8, as the HTTP endpoint sends it.
    package nonisolated func metricsExposition() async -> [UInt8] {
        let (files, failed, loading) = await filesForMetrics()
        return MetricsReport(files: files, failed: failed, loading: loading, context: context).bytes
    }

    private func filesForMetrics() -> (files: [(core: FileCore, handlers: [Handler])], failed: [String], loading: Int) {
        (records.loaded.sorted { $0.core.path < $1.core.path }.map { ($0.core, $0.handlers.sorted { $0.name < $1.name }) },
         failedFiles.map(\.path), records.firstLoads.count)
    }
}
