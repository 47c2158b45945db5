import LuminalSystem
import LuminalWire
import LuminalWorker

extension FileLifecycle {
    /// The connection a call to `photon` goes to, or why it cannot be made. Every call asks, so
    /// the serving generation is read in place, not copied (its record holds many references).
    func callTarget(_ photon: String, method: String) -> Result<Connection, LoaderError> {
        guard let record = photons[photon], let serving = generations.firstIndex(where: { $0.number == record.generation }) else {
            return .failure(LoaderError(.unloaded, "photon \(photon) (\(path)) cannot take call '\(method)': it is stopped", photon: photon, file: path))
        }
        guard !generations[serving].plain else {
            return .failure(LoaderError(.noProtocol, "photon \(photon) (\(path)) is a plain executable (\"protocol\": \"none\"); it takes no calls", photon: photon, file: path))
        }
        guard record.state == .started, members.contains(photon) else {
            let notStarted = record.state == .ready || record.state == .starting
            return .failure(LoaderError(notStarted ? .notStarted : .unloaded,
                                        "photon \(photon) (\(path)) cannot take call '\(method)': it is \(record.state)\(notStarted ? "; call start() first" : "")",
                                        photon: photon, file: path, exit: record.lastExit))
        }
        return .success(generations[serving].connection)
    }

    /// Whether a call of `method` to `photon` that met the end of generation `number` is sent
    /// again: it waits for a restart (`awaitsRestart`), or the restart came before its caller
    /// looked and a later generation serves the photon already.
    func retriesCall(_ photon: String, method: String, after number: Int) -> Bool {
        if awaitsRestart(photon, method: method, after: number) { return true }
        guard mayRetry(photon, method: method), let record = photons[photon] else { return false }
        return record.generation > number && record.state == .started
    }

    /// Whether a call of `method` to `photon` whose worker ended may be sent again (to another
    /// instance, or a later generation): the photon declared the method idempotent, and the file
    /// was not stopped.
    func mayRetry(_ photon: String, method: String) -> Bool {
        !held && photons[photon]?.descriptor.idempotent.contains(method) == true
    }

    /// Whether a call of `method` to `photon` that met the end of generation `number` (or found
    /// the photon down after it) waits for the next generation: the method is idempotent, and
    /// generation `number` is still serving (its end is about to be applied) or it ended on its
    /// own and a restart is scheduled or under way, not quarantined.
    func awaitsRestart(_ photon: String, method: String, after number: Int) -> Bool {
        guard mayRetry(photon, method: method), let record = photons[photon] else { return false }
        if record.generation == number, generation(number)?.hasEnded == false, record.state == .started { return true }
        switch record.state {
        case .crashed, .faulted: return restartPending
        default: return false
        }
    }

    /// The photons a new generation is to start: those started or meant to run, and, when any
    /// was, the photons it brings that the file did not have.
    func photonsToStart(among names: [String]) -> Set<String> {
        let running = Set(members.filter { photons[$0]?.state == .started || photons[$0]?.wantsToRun == true })
        return Set(names.filter { running.contains($0) || (!running.isEmpty && !members.contains($0)) })
    }

    /// The photon names generation `number`'s output and events go under, whichever its phase:
    /// its own photons once chosen; before that (or once it is forgotten), the file's; none only
    /// before the file's first generation said its hello.
    func photonNames(of number: Int) -> [String] {
        if let own = generation(number)?.photons, !own.isEmpty { return own }
        return members
    }

    /// The serving generation's photons whose start routines ran (their finalizers are due).
    var startedMembers: [String] {
        members.filter { photons[$0]?.state == .started || photons[$0]?.state == .starting }
    }

    /// Whether every photon of the file is stopped, crashed, faulted or quarantined.
    var allFinal: Bool {
        members.allSatisfy { photons[$0]?.state.isFinal ?? true }
    }

    /// The connections of generations that have not ended.
    var liveConnections: [Connection] {
        generations.filter { !$0.hasEnded }.map(\.connection)
    }

    /// What the handler of `photon` shows, as of `now`.
    package func snapshot(of photon: String, at now: ContinuousClock.Instant) -> PhotonSnapshot? {
        photons[photon].map { record in
            // A failed reload is news only while a generation serves in spite of it.
            let reloadFailure = record.state.isFinal ? nil : reloadFailure
            return PhotonSnapshot(name: photon, filePath: path, state: record.state, pid: record.pid, generation: record.generation,
                           checksum: record.checksum, kinds: record.descriptor.kinds, methods: record.descriptor.methods,
                           metadata: record.descriptor.metadata, lastExit: record.lastExit, restarts: record.restarts,
                           uptime: record.state.isFinal ? nil : record.since.duration(to: now), failureClass: record.failure,
                           lastRecycle: lastRecycle, reloadFailure: reloadFailure,
                           reloadFailingFor: reloadFailure?.since.duration(to: now),
                           unresponsive: isUnresponsive(record))
        }
    }

    /// Whether `record`'s photon is started on a generation that is unresponsive (its calls keep
    /// timing out).
    package func isUnresponsive(_ record: PhotonRecord) -> Bool {
        record.state == .started && generations.contains { $0.number == record.generation && $0.unresponsive }
    }
}

/// One consistent reading of a photon: every field as of the same moment.
public struct PhotonSnapshot: Sendable, Hashable {
    /// The photon's name.
    public let name: String
    /// The photon file it comes from.
    public let filePath: String
    /// Where it is in its life.
    public let state: PhotonState
    /// The pid of the worker process hosting it.
    public let pid: Int32
    /// Which worker generation hosts it: 1 for the first.
    public let generation: Int
    /// SHA-256 of the photon file's bytes (for a package: the manifest and the executable).
    public let checksum: String
    /// The kinds the worker declared for it.
    public let kinds: [String]
    /// The method names the worker declared for it.
    public let methods: [String]
    /// Author, version, description and tags, as the worker declared them.
    public let metadata: PhotonMetadata
    /// How its worker ended, once it has.
    public let lastExit: ExitStatus?
    /// How many times its worker was restarted after a failure.
    public let restarts: Int
    /// How long its generation has been up; nil once it has ended.
    public let uptime: Duration?
    /// Why its worker last failed, if it ever did.
    public let failureClass: FailureClass?

    /// Why its file's worker was last replaced by its recycle policy, if it ever was.
    public let lastRecycle: RecycleReason?
    /// The newest version of its file that failed to come up while this generation serves.
    public let reloadFailure: ReloadFailure?
    /// How long since the first of those failed reloads in a row.
    public let reloadFailingFor: Duration?
    /// Its worker's calls keep timing out although it may answer pings (3 in a row with no reply
    /// between them); it is still `started`, and calls still go to it.
    public let unresponsive: Bool

    /// This snapshot of one instance, with what concerns the whole file (its failed reload, its
    /// last recycling) as `file` says, and the restarts of every instance.
    func reporting(for file: PhotonSnapshot, restarts: Int) -> PhotonSnapshot {
        PhotonSnapshot(name: name, filePath: filePath, state: state, pid: pid, generation: generation, checksum: checksum, kinds: kinds,
                       methods: methods, metadata: metadata, lastExit: lastExit, restarts: restarts, uptime: uptime,
                       failureClass: failureClass, lastRecycle: file.lastRecycle, reloadFailure: file.reloadFailure,
                       reloadFailingFor: file.reloadFailingFor, unresponsive: unresponsive)
    }

    /// Whether the photon is doing its job: started, answering its calls, and not being stopped
    /// or restarted.
    public var isHealthy: Bool { state == .started && !unresponsive }

    /// The state as status shows it: "unresponsive" for a started photon that is.
    public var stateText: String { unresponsive ? "unresponsive" : state.description }
}
