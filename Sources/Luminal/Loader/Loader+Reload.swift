import LuminalWire
import LuminalWorker

extension Loader {
    /// Atomically reloads the photon file `handler` comes from and returns its handlers.
    ///
    /// Generation N+1 is spawned from the file as it is now, must say a valid hello and (if N's
    /// photons were started) start; only then do calls switch to it, the handlers keeping their
    /// identity. N drains its in-flight calls (drain timeout) and is stopped gracefully. If N+1
    /// fails at any step it is killed and N keeps serving untouched; the error
    /// (`reloadRolledBack`) names the step.
    @discardableResult
    public func reloadPhoton(_ handler: Handler) async throws(LoaderError) -> [Handler] {
        try await reloadPhotons([handler])
    }

    /// Atomically reloads the photon file of the photon named `nameOrPath`, or at that path.
    @discardableResult
    public func reloadPhoton(_ nameOrPath: String) async throws(LoaderError) -> [Handler] {
        try await reloadPhotons([nameOrPath])
    }

    /// Atomically reloads the photon files of `handlers`, all or nothing: every new generation
    /// is ready before any old one is retired; if one fails, every old one keeps serving.
    @discardableResult
    public func reloadPhotons(_ handlers: [Handler]) async throws(LoaderError) -> [Handler] {
        for handler in handlers where records[handler.filePath].loaded?.handlers.contains(handler) != true {
            throw LoaderError(.photonNotFound, "photon \(handler.name) (\(handler.filePath)) is not loaded", photon: handler.name, file: handler.filePath)
        }
        return try await reload(Set(handlers.map(\.filePath)))
    }

    /// Atomically reloads the photon files named by photon names or paths, all or nothing. A
    /// path of a failed photon file (`failedFiles`) is tried again instead: loaded as it is now
    /// and started, after the loaded files' reload succeeded (one the operator stopped is refused,
    /// as a stopped loaded file is).
    @discardableResult
    public func reloadPhotons(_ namesOrPaths: [String]) async throws(LoaderError) -> [Handler] {
        var paths: Set<String> = []
        var retries: [FailedFile] = []
        for item in namesOrPaths {
            if let failure = failedFile(at: item) { retries.append(failure) } else { paths.insert(try filePath(of: item)) }
        }
        var handlers = paths.isEmpty ? [] : try await reload(paths)
        for failure in retries { handlers += try await retry(failure, starting: false) }
        return handlers
    }

    /// Brings up a new generation of each file and switches them over together; `restart` when
    /// it replaces generations that ended on their own. A file with a version in `versions` (the
    /// watcher's) is not resolved nor hashed again.
    package func reload(_ paths: Set<String>, restart: Bool = false, versions: [String: FileVersion] = [:]) async throws(LoaderError) -> [Handler] {
        if let held = paths.sorted().first(where: isHeld) {
            throw Self.heldError(held)
        }
        await enterGate(paths)
        defer { gate.leave(paths) }
        let records = paths.sorted().compactMap { self.records[$0].loaded }
        // Files whose photons all ended (a restart's, a start's after a stop, a crash or a
        // quarantine) have nothing serving: their new generations are bring-ups, not a reload
        // that could roll back, and a failure is theirs alone.
        let nothingServes = records.allSatisfy { $0.core.read(\.allFinal) }
        if !nothingServes { for record in records { record.core.apply(.reloadBegan) } }
        var prepared: [Int: NewGeneration] = [:]
        var failures: [(Int, GenerationFailure)] = []
        await withTaskGroup(of: (Int, Result<NewGeneration, GenerationFailure>).self) { group in
            for (index, record) in records.enumerated() {
                group.addTask { (index, await self.bringUpGeneration(of: record, version: versions[record.file.path])) }
            }
            for await (index, result) in group {
                switch result {
                case .success(let generation): prepared[index] = generation
                case .failure(let failure): failures.append((index, failure))
                }
            }
        }
        if failures.isEmpty, let clash = groupClash(records, prepared) { failures.append(clash) }
        if let (index, failure) = failures.min(by: { $0.0 < $1.0 }) {
            await rollBack(records, prepared: prepared, failed: records[index], failure: failure, noting: !nothingServes)
            guard !nothingServes else {
                // The new generation's own failure; a restart's is counted and logged as a restart's.
                var error = failure.error
                error.step = failure.step
                if !restart {
                    context.log(.error, "photon file \(records[index].file.path) was not brought up again (step '\(failure.step.rawValue)'): \(failure.error.message)",
                                file: records[index].file.path)
                }
                throw error
            }
            records.forEach { FileCounters.count($0.core.counters.rollbacks) }
            let serving = records[index].core.read { $0.serving?.number ?? 0 }
            var error = LoaderError(.reloadRolledBack, "reload of \(records[index].file.path) rolled back at step '\(failure.step.rawValue)': \(failure.error.message); generation \(serving) keeps serving",
                                    photon: failure.error.photon, file: records[index].file.path, exit: failure.error.exit)
            error.step = failure.step
            throw error
        }
        var handlers: [Handler] = []
        var retiring: [Retiring] = []
        for (index, record) in records.enumerated() {
            let (switched, old) = switchOver(record, to: prepared[index]!, restart: restart)
            if !restart { FileCounters.count(record.core.counters.reloads) }
            handlers += switched
            if let old { retiring.append(old) }
        }
        await withTaskGroup(of: Void.self) { group in
            for old in retiring {
                group.addTask { [context] in await Self.retire(old, context: context) }
            }
        }
        return handlers
    }

    /// Spawns, validates and starts generation N+1 of `record`'s file, from `version` when the
    /// watcher read it already, else from the file as it is now.
    private func bringUpGeneration(of record: LoadedFile, version: FileVersion?) async -> Result<NewGeneration, GenerationFailure> {
        let clock = ContinuousClock()
        let began = clock.now
        let file: PhotonFile
        do {
            if let version {
                file = version.file
            } else {
                file = try await PhotonScan.resolving(record.file.path)
            }
        } catch {
            return .failure(GenerationFailure(.resolve, error))
        }
        let prepared: PreparedGeneration
        do {
            prepared = try await prepare(file, selection: record.selection, core: record.core, checksum: version?.checksum)
        } catch {
            return .failure(error)
        }
        let ready = clock.now
        // Start what was started, and new photons of a file whose photons were running.
        let names = prepared.photons.map(\.name)
        let toStart = record.core.read { $0.photonsToStart(among: names) }
        for photon in names where toStart.contains(photon) && file.plain == nil {
            do {
                _ = try await prepared.worker.send(.start(photon: photon), timeout: context.configuration.startTimeout)
            } catch {
                await abandon(prepared.worker, of: record.core, graceful: false)
                return .failure(GenerationFailure(.start, error))
            }
        }
        return .success(NewGeneration(prepared: prepared, started: toStart, readyAfter: began.duration(to: ready),
                                      startedAfter: ready.duration(to: clock.now)))
    }

    /// A photon name used twice among the new generations of a group, as a failure.
    private func groupClash(_ records: [LoadedFile], _ prepared: [Int: NewGeneration]) -> (Int, GenerationFailure)? {
        var owners: [String: String] = [:]
        let reloading = Set(records.map(\.file.path))
        for (index, record) in records.enumerated() {
            let generation = prepared[index]!
            for photon in generation.prepared.photons {
                let other = owners[photon.name]
                    ?? self.records.handler(named: photon.name).map(\.filePath).flatMap { reloading.contains($0) ? nil : $0 }
                if let other {
                    return (index, GenerationFailure(.validate, LoaderError(.duplicatePhotonName, "photon \(photon.name) in \(record.file.path) clashes with photon \(photon.name) of \(other); rename one of them", photon: photon.name, file: record.file.path)))
                }
                owners[photon.name] = record.file.path
            }
        }
        return nil
    }

    /// Ends the new generations `prepared` of `records` after `failed` failed; when `noting` (a
    /// reload of files that serve), the failed reload is noted on each file.
    private func rollBack(_ records: [LoadedFile], prepared: [Int: NewGeneration], failed: LoadedFile, failure: GenerationFailure,
                          noting: Bool) async {
        await withTaskGroup(of: Void.self) { group in
            for (index, generation) in prepared {
                let core = records[index].core
                group.addTask { await self.abandon(generation.prepared.worker, of: core, graceful: false) }
            }
        }
        guard noting else { return }
        for record in records {
            let (step, reason) = record.file.path == failed.file.path
                ? (failure.step, failure.error.message)
                : (ReloadStep.group, "\(failed.file.path) failed at step '\(failure.step.rawValue)'")
            record.core.apply(.reloadFailed(step: step, reason: reason, at: .now))
        }
    }

    /// Points the handlers at the new generation; from here on new calls go to it. Returns the
    /// file's handlers and the generation it replaced, to retire.
    private func switchOver(_ record: LoadedFile, to generation: NewGeneration, restart: Bool) -> ([Handler], Retiring?) {
        let prepared = generation.prepared
        let core = record.core
        let old = core.read { lifecycle in
            lifecycle.serving.map { (worker: $0.connection, started: lifecycle.startedMembers) }
        }
        let handlers = prepared.photons.map { photon in
            record.handlers.first { $0.name == photon.name } ?? Handler(name: photon.name, core: core)
        }
        core.apply(.serving(number: prepared.worker.generation, photons: prepared.photons, started: generation.started,
                            checksum: prepared.checksum, policy: restartPolicy(for: prepared.file), restart: restart,
                            at: .now, random: .random(in: 0...1)))
        records[record.file.path].loaded = LoadedFile(core: core, file: prepared.file, handlers: handlers, selection: record.selection,
                                                      sockets: prepared.sockets)
        records[record.file.path].failedVersion = nil
        superviseRecycling()
        superviseHealth(of: prepared.worker)
        return (handlers, old.map { Retiring(core: core, worker: $0.worker, started: $0.started, replacedBy: generation,
                                             timeouts: stopTimeouts(for: record.file), sockets: prepared.sockets) })
    }

    /// Drains and stops the replaced generation, then reports the reload.
    private static func retire(_ old: Retiring, context: LoaderContext) async {
        let clock = ContinuousClock()
        let began = clock.now
        await old.worker.drainOrCancel(timeout: context.configuration.drainTimeout, "replaced")
        let drained = clock.now
        let stop = await old.worker.stop(graceful: true, started: old.started, timeouts: old.timeouts)
        keepListening(old.sockets, of: old.core.path, context: context)
        old.core.apply(.removed(number: old.worker.generation))
        let new = old.replacedBy
        let worker = new.prepared.worker
        let report = ReloadReport(file: old.core.path, photons: new.prepared.photons.map(\.name),
                                  fromGeneration: old.worker.generation, toGeneration: worker.generation,
                                  oldPID: old.worker.pid, newPID: worker.pid, readyAfter: new.readyAfter,
                                  startedAfter: new.startedAfter, drainedAfter: began.duration(to: drained),
                                  stoppedAfter: drained.duration(to: clock.now), oldEnding: stop.ending)
        context.log(.info, "reloaded \(report.file): generation \(report.fromGeneration) → \(report.toGeneration) (pid \(report.newPID))", file: report.file)
        context.events.emit(.reloaded(report))
    }
}

/// A generation replaced by a reload, to drain and stop.
private struct Retiring: Sendable {
    let core: FileCore
    let worker: Worker
    /// Its photons whose start routines ran: their finalizers are due.
    let started: [String]
    let replacedBy: NewGeneration
    let timeouts: StopTimeouts
    /// The file's held sockets, made to listen again should the old worker have shut them down.
    let sockets: [HeldSocket]
}

/// A new generation, up and started, waiting for the switch.
struct NewGeneration: Sendable {
    let prepared: PreparedGeneration
    /// The photons started in it.
    let started: Set<String>
    let readyAfter: Duration
    let startedAfter: Duration
}

/// How a reload went, step by step.
public struct ReloadReport: Sendable, Hashable {
    /// The photon file.
    public let file: String
    /// The photons of the new generation.
    public let photons: [String]
    /// The replaced generation.
    public let fromGeneration: Int
    /// The new generation.
    public let toGeneration: Int
    /// The replaced worker's pid.
    public let oldPID: Int32
    /// The new worker's pid.
    public let newPID: Int32
    /// From the start of the reload to the new generation's validated hello.
    public let readyAfter: Duration
    /// Running the new generation's start routines.
    public let startedAfter: Duration
    /// The old generation finishing its in-flight calls.
    public let drainedAfter: Duration
    /// Stopping the old generation.
    public let stoppedAfter: Duration
    /// How the old generation ended.
    public let oldEnding: UnloadOutcome.Ending
}
