import LuminalSystem
import Synchronization

/// The supervisor's metrics as Prometheus text (`Loader.metrics()`), with each photon's and each
/// photon file's samples kept between scrapes (`KeptLines`).
///
/// A scrape reads what every file and photon shows: a file's lifecycle only when its count of
/// transitions moved since the last scrape (`LifecycleChanges.count`), a photon's call counters
/// only when their count of calls begun and ended moved (`CallMetrics.changes`). Only the samples
/// whose figures changed are written again, and the kept
/// families are joined again only when some changed: scraping an idle supervisor writes its
/// uptimes and its own figures, and sends the rest as it was (`text(of:context:)` returns the
/// exposition in pieces).
final class MetricsExposition: Sendable {
    private struct KeptFile {
        /// `FileCore.serial`.
        let serial: UInt64
        /// `file="…"`.
        let labels: MetricsText.Labels
        var lines = KeptLines<MetricsText.Labels, FileFigures>()
        /// Its photons, in the listing's order.
        var photons: [KeptPhoton]
        /// The lifecycle's count of transitions when its photons' standings were read; nil before.
        var transitions: UInt64?
        /// Its newest version failed to come up while an older one serves.
        var reloadFailed = false

        init(_ core: FileCore, handlers: [Handler]) {
            serial = core.serial
            labels = MetricsText.Labels(["file": core.path])
            photons = handlers.map { KeptPhoton(subject: PhotonSubject(name: $0.name, file: core.path)) }
        }

        /// Reads what the file and its photons show now, given its count of transitions (read
        /// before); whether any kept samples changed.
        mutating func update(_ core: FileCore, _ handlers: [Handler], transitions count: UInt64, usage: ProcessUsage) -> Bool {
            var changed = false
            if photons.count != handlers.count || !handlers.indices.allSatisfy({ photons[$0].subject.name == handlers[$0].name }) {
                photons = handlers.map { KeptPhoton(subject: PhotonSubject(name: $0.name, file: core.path)) }
                transitions = nil
                changed = true
            }
            if transitions != count {
                for (slot, handler) in handlers.enumerated() {
                    // A pool's photon stands where the instance that reports it does (`Handler.snapshot`).
                    photons[slot].standing = handler.pool.reporter(of: handler.name).read { lifecycle in
                        lifecycle.photons[handler.name].map { PhotonStanding($0, in: lifecycle) }
                    }
                    if handler.pool.count > 1 { photons[slot].standing?.restarts = handler.snapshot.restarts }
                    photons[slot].calls = nil
                }
                reloadFailed = core.read { $0.reloadFailure != nil }
                transitions = count
            }
            for (slot, handler) in handlers.enumerated() {
                changed = photons[slot].update(calls: handler.calls) || changed
            }
            return lines.update(labels, FileFigures(core.counters, usage: usage, reloadFailed: reloadFailed), families: MetricsFamilies.file) || changed
        }
    }

    private struct KeptPhoton {
        let subject: PhotonSubject
        var lines = KeptLines<PhotonSubject, PhotonFigures>()
        /// Where it stands in its lifecycle, as of `KeptFile.transitions`; nil before.
        var standing: PhotonStanding?
        /// `CallMetrics.changes` when its samples were written; nil when they need writing.
        var calls: UInt64?

        /// Reads its call counters if they changed; whether its kept samples changed.
        mutating func update(calls metrics: CallMetrics) -> Bool {
            // A handler's photon has a record from the moment the handler exists.
            guard let standing else { return false }
            // Read before the counters: a call counted meanwhile is read again next time.
            let changes = metrics.changes
            guard changes != calls else { return false }
            calls = changes
            return lines.update(subject, PhotonFigures(standing: standing, calls: metrics.reading), families: MetricsFamilies.photon)
        }
    }

    private struct Kept {
        /// The files of the last scrape, in its order.
        var files: [KeptFile] = []
        /// Their families, joined.
        var families: [UInt8] = []
    }

    // Held through a scrape: a second one meanwhile waits.
    private let kept = Mutex(Kept())

    /// The exposition of the files of `listing`, as UTF-8 in pieces to be sent one after the other.
    func text(of listing: FileListing, context: LoaderContext) -> [[UInt8]] {
        kept.withLock { kept in
            // Read before the lifecycles: a transition applied meanwhile is read again next time.
            let transitions = listing.loaded.map { $0.core.changes.count }
            let (usage, age, period) = context.processFigures.usage(of: listing, transitions: transitions)
            if Self.update(&kept.files, listing, transitions: transitions, usage: usage) {
                var out = MetricsText(reserving: kept.families.count + 4096)
                Self.writeFamilies(kept.files, &out)
                kept.families = out.bytes
            }
            var out = MetricsText(reserving: 4096 + kept.files.count * 64)
            Self.writeUptimes(kept.files, now: PhotonStanding.epoch.duration(to: .now), &out)
            Self.writeAge(age, period: period, &out)
            Self.writeFilesNotLoaded(failed: listing.failed, loading: listing.loading, &out)
            Self.writeSockets(listing.sockets, &out)
            Self.writeInstances(listing.pools, &out)
            Self.writeSupervisor(context, photons: kept.files.reduce(0) { $0 + $1.photons.count }, files: kept.files.count, &out)
            return [kept.families, out.bytes]
        }
    }

    /// Brings `files` in step with `listing`: the same files in its order, each with what it and
    /// its photons show now. Whether any kept samples changed.
    private static func update(_ files: inout [KeptFile], _ listing: FileListing, transitions: [UInt64], usage: [ProcessUsage]) -> Bool {
        var changed = false
        if files.count != listing.loaded.count || !files.indices.allSatisfy({ files[$0].serial == listing.loaded[$0].core.serial }) {
            var previous = Dictionary(files.map { ($0.serial, $0) }, uniquingKeysWith: { first, _ in first })
            files = listing.loaded.map { previous.removeValue(forKey: $0.core.serial) ?? KeptFile($0.core, handlers: $0.handlers) }
            changed = true
        }
        for index in files.indices {
            let (core, _, handlers) = listing.loaded[index]
            changed = files[index].update(core, handlers, transitions: transitions[index], usage: usage[index]) || changed
        }
        return changed
    }

    private static func writeFamilies(_ files: [KeptFile], _ out: inout MetricsText) {
        for (index, family) in MetricsFamilies.photon.enumerated() {
            out.family(family.name, family.kind, family.help)
            for file in files.indices {
                for slot in files[file].photons.indices { out.append(lines: files[file].photons[slot].lines[family: index]) }
            }
        }
        for (index, family) in MetricsFamilies.file.enumerated() {
            out.family(family.name, family.kind, family.help)
            for file in files.indices { out.append(lines: files[file].lines[family: index]) }
        }
    }

    /// `now` as a time after `PhotonStanding.epoch`.
    private static func writeUptimes(_ files: [KeptFile], now: Duration, _ out: inout MetricsText) {
        out.family("luminal_photon_uptime_seconds", .gauge, "How long the photon's generation has been up; absent once it ended.")
        for file in files.indices {
            for slot in files[file].photons.indices {
                guard let since = files[file].photons[slot].standing?.since else { continue }
                out.sample("luminal_photon_uptime_seconds", files[file].photons[slot].subject.labels, now - since)
            }
        }
    }

    private static func writeAge(_ age: Duration, period: Duration, _ out: inout MetricsText) {
        out.family("luminal_process_figures_age_seconds", .gauge, "How old the luminal_file_processes, _resident_memory_bytes, _cpu_seconds_total and _open_fds figures are (0 right after a reading of /proc).")
        out.sample("luminal_process_figures_age_seconds", .none, age.fractionalSeconds)
        out.family("luminal_process_figures_period_seconds", .gauge, "How long a reading of /proc is served (unless workers change): the configured period, or \(ProcessFigures.costFactor) times the CPU time the reading took if longer.")
        out.sample("luminal_process_figures_period_seconds", .none, period)
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

    /// Each held socket: whether it listens, and (TCP) the connections waiting to be accepted,
    /// read at every scrape (a worker that stops accepting shows as a queue that grows).
    private static func writeSockets(_ files: [(path: String, sockets: [HeldSocket])], _ out: inout MetricsText) {
        out.family("luminal_socket_listening", .gauge, "1 while a socket a photon file holds (its manifest's sockets) listens; 0 once a worker shut it down, until Luminal listens on it again.")
        for (path, sockets) in files {
            for socket in sockets {
                out.sample("luminal_socket_listening", MetricsText.Labels(["file": path, "socket": socket.address.description]), socket.isListening ? 1 : 0)
            }
        }
        out.family("luminal_socket_waiting_connections", .gauge, "Connections waiting to be accepted on a TCP socket a photon file holds (the accept queue).")
        for (path, sockets) in files {
            for socket in sockets {
                guard let waiting = socket.waitingConnections else { continue }
                out.sample("luminal_socket_waiting_connections", MetricsText.Labels(["file": path, "socket": socket.address.description]), waiting)
            }
        }
    }

    private static func writeInstances(_ files: [(path: String, pool: InstancePool)], _ out: inout MetricsText) {
        let pools = files.map { file in (file.path, file.pool.cores.map(InstanceSnapshot.init)) }
        out.family("luminal_pool_instances", .gauge, "Instances a photon file of more than one runs (its manifest's instances).")
        for (path, snapshots) in pools {
            out.sample("luminal_pool_instances", MetricsText.Labels(["file": path]), snapshots.count)
        }
        out.family("luminal_pool_busy_instances", .gauge, "Instances of a pooled photon file with a call in flight: a call that finds every one busy waits (and makes a pool that scales grow).")
        for (path, snapshots) in pools {
            out.sample("luminal_pool_busy_instances", MetricsText.Labels(["file": path]), snapshots.filter { $0.callsInFlight > 0 }.count)
        }
        out.family("luminal_instance_calls_total", .counter, "Calls sent to an instance of a pooled photon file, whichever of its generations took them.")
        for (path, snapshots) in pools {
            for snapshot in snapshots {
                out.sample("luminal_instance_calls_total", MetricsText.Labels(["file": path, "instance": String(snapshot.instance)]), snapshot.calls)
            }
        }
        out.family("luminal_instance_up", .gauge, "1 while an instance of a pooled photon file takes calls (its photons started), else 0.")
        for (path, snapshots) in pools {
            for snapshot in snapshots {
                out.sample("luminal_instance_up", MetricsText.Labels(["file": path, "instance": String(snapshot.instance)]), snapshot.state == .started ? 1 : 0)
            }
        }
        out.family("luminal_instance_calls_in_flight", .gauge, "Calls sent to an instance of a pooled photon file and not yet answered (the load calls are routed by).")
        for (path, snapshots) in pools {
            for snapshot in snapshots {
                out.sample("luminal_instance_calls_in_flight", MetricsText.Labels(["file": path, "instance": String(snapshot.instance)]), snapshot.callsInFlight)
            }
        }
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
