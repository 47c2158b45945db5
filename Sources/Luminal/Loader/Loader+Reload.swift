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

    /// Brings up a new generation of each instance of each file and switches them over; `restart`
    /// when it replaces generations that ended on their own. A file with a version in `versions`
    /// (the watcher's) is not resolved nor hashed again. With `instance`, only that instance of
    /// each file is replaced, from the manifest the file's serving generations were spawned from
    /// (a restart or a recycling of one instance of a pool).
    ///
    /// The instances roll in batches of the file's surge (`PoolSize`): a batch's new generations
    /// come up side by side (every file's together) and take over; the generations they replace
    /// stop taking calls at once and are stopped once every batch has taken over. If a batch
    /// fails, its new generations are stopped and every earlier batch is rolled back: the
    /// replaced generations take calls again and the new ones are retired, so the reload is all
    /// or nothing.
    package func reload(_ paths: Set<String>, restart: Bool = false, versions: [String: FileVersion] = [:],
                        instance: Int? = nil) async throws(LoaderError) -> [Handler] {
        if let held = paths.sorted().first(where: isHeld) {
            throw heldError(held)
        }
        await enterGate(paths)
        defer { gate.leave(paths) }
        // A stop that held the gate meanwhile holds the file: it stays stopped.
        if let held = paths.sorted().first(where: isHeld) {
            throw heldError(held)
        }
        let records = paths.sorted().compactMap { self.records[$0].loaded }
        let targets = records.map { record in record.pool.cores.filter { instance == nil || $0.instance == instance } }
        // Instances whose photons all ended (a restart's, a start's after a stop, a crash or a
        // quarantine) have nothing serving: their new generations are bring-ups, not a reload
        // that could roll back, and a failure is theirs alone.
        let nothingServes = targets.allSatisfy { $0.allSatisfy { $0.read(\.allFinal) } }
        if !nothingServes { for record in records { record.core.apply(.reloadBegan) } }
        var rolls: [FileRoll] = []
        switch await readyFiles(records, versions: versions, fromServing: instance != nil) {
        case .failure(let failed):
            throw await fail(records, at: failed.index, failed.failure, nothingServes: nothingServes, restart: restart, rolls: [])
        case .success(let ready):
            for (index, record) in records.enumerated() {
                rolls.append(plan(record, ready: ready[index], replacing: targets[index], resize: instance == nil, nothingServes: nothingServes))
            }
        }
        let batches = rolls.map(\.batchCount).max() ?? 0
        let began = context.hashes.mark
        for record in records { bringingUp[record.file.path] = [] }
        defer { for record in records { bringingUp[record.file.path] = nil } }
        for batch in 0..<batches {
            let slots = rolls.indices.flatMap { index in rolls[index].batch(batch).map { (roll: index, core: $0) } }
            if batch > 0, unloadsOfAll > 0 || context.hashes.isCancelled(since: began) {
                // Every photon is being unloaded (a supervisor stopping): the roll goes no further.
                let path = records[slots[0].roll].file.path
                throw await fail(records, at: slots[0].roll, GenerationFailure(.spawn, LoaderError(.unloaded, "photon file \(path) was not rolled further: every photon is being unloaded", file: path)),
                                 nothingServes: nothingServes, restart: restart, rolls: rolls)
            }
            if let index = records.firstIndex(where: { bringingUp[$0.file.path] == nil }) {
                // A stop or an unload of it gave the reload up between two batches.
                let error = await fail(records, at: index, GenerationFailure(.spawn, LoaderError(.unloaded, "a stop or an unload of it gave the reload up", file: records[index].file.path)),
                                       nothingServes: nothingServes, restart: restart, rolls: rolls)
                throw givenUp(error, records[index].file.path, nothingServes: nothingServes)
            }
            var prepared: [Int: NewGeneration] = [:]
            var failures: [(Int, GenerationFailure)] = []
            for (index, record) in records.enumerated() { bringingUp[record.file.path] = Array(rolls[index].batch(batch)) }
            await withTaskGroup(of: (Int, Result<NewGeneration, GenerationFailure>).self) { group in
                for (index, slot) in slots.enumerated() {
                    let roll = rolls[slot.roll]
                    group.addTask { (index, await self.bringUpGeneration(of: roll, in: slot.core)) }
                }
                for await (index, result) in group {
                    switch result {
                    case .success(let generation): prepared[index] = generation
                    case .failure(let failure): failures.append((index, failure))
                    }
                }
            }
            let givenUp = Set(records.map(\.file.path).filter { bringingUp[$0] == nil })
            for index in slots.indices where failures.isEmpty {
                if let mismatch = rolls[slots[index].roll].mismatch(prepared[index]!) { failures.append((index, mismatch)) }
            }
            if failures.isEmpty, batch == 0 {
                let firsts = Dictionary(slots.indices.map { (slots[$0].roll, prepared[$0]!) }, uniquingKeysWith: { first, _ in first })
                if let (index, failure) = groupClash(records, firsts) {
                    failures.append((slots.firstIndex { $0.roll == index }!, failure))
                }
            }
            if let (index, failure) = failures.min(by: { $0.0 < $1.0 }) {
                await withTaskGroup(of: Void.self) { group in
                    for (index, generation) in prepared {
                        let core = slots[index].core
                        group.addTask { await self.abandon(generation.prepared.worker, of: core, graceful: false) }
                    }
                }
                let error = await fail(records, at: slots[index].roll, failure, nothingServes: nothingServes, restart: restart, rolls: rolls,
                                       instance: slots[index].core.instance)
                let path = records[slots[index].roll].file.path
                throw givenUp.contains(path) ? self.givenUp(error, path, nothingServes: nothingServes) : error
            }
            for (index, slot) in slots.enumerated() {
                rolls[slot.roll].takeOver(in: slot.core, by: prepared[index]!, restart: restart, loader: self)
            }
        }
        var handlers: [Handler] = []
        var retiring: [Retiring] = []
        var dropped: [(FileCore, StopTimeouts)] = []
        for roll in rolls {
            let record = roll.record
            if instance == nil {
                self.records[record.file.path].loaded = LoadedFile(pool: record.pool, file: roll.ready.file, handlers: roll.handlers,
                                                                   selection: record.selection, sockets: roll.ready.sockets)
                self.records[record.file.path].failedVersion = nil
                superviseScaling(of: self.records[record.file.path].loaded!)
            }
            if !restart { FileCounters.count(record.core.counters.reloads) }
            handlers += roll.handlers
            retiring += roll.parked.map { $0.retiring(timeouts: stopTimeouts(for: record.file), sockets: roll.ready.sockets) }
            for core in roll.dropped {
                record.pool.remove(core)
                core.discard()
                dropped.append((core, stopTimeouts(for: record.file)))
            }
        }
        superviseRecycling()
        await withTaskGroup(of: Void.self) { group in
            for old in retiring {
                group.addTask { [context] in await Self.retire(old, context: context) }
            }
            for (core, timeouts) in dropped {
                group.addTask { [context] in await Self.stopInstance(core, because: "the file runs fewer instances", timeouts: timeouts, context: context) }
            }
        }
        if !dropped.isEmpty {
            // A stopped instance may have shut the sockets the others share down.
            for roll in rolls { Self.keepListening(roll.ready.sockets, of: roll.record.file.path, context: context) }
        }
        return handlers
    }

    /// Each record's file, resolved (unless `versions` has it, or `fromServing`: then as the
    /// serving generations were spawned from it), hashed and with its sockets held; or the first
    /// failure, with its record's index.
    private func readyFiles(_ records: [LoadedFile], versions: [String: FileVersion], fromServing: Bool) async -> Result<[ReadyFile], IndexedFailure> {
        var ready = [ReadyFile?](repeating: nil, count: records.count)
        var failures: [(Int, GenerationFailure)] = []
        await withTaskGroup(of: (Int, Result<ReadyFile, GenerationFailure>).self) { group in
            for (index, record) in records.enumerated() {
                // One instance of a pool comes back from the manifest the others were spawned from
                // (its program, and so its checksum, read from disk as they are now).
                let version = fromServing ? nil : versions[record.file.path]
                let known = fromServing ? record.file : version?.file
                group.addTask {
                    (index, await Result(awaiting: { () async throws(GenerationFailure) in
                        let file: PhotonFile
                        if let known {
                            file = known
                        } else {
                            do throws(LoaderError) {
                                file = try await PhotonScan.resolving(record.file.path)
                            } catch {
                                throw GenerationFailure(.resolve, error)
                            }
                        }
                        let ready = try await self.readyFile(file, checksum: version?.checksum)
                        if fromServing, let running = record.handlers.first?.checksum, ready.checksum != running {
                            // A version the pool does not run (one a reload rejected, or not rolled
                            // yet) never comes up beside it by a restart.
                            throw GenerationFailure(.resolve, LoaderError(.versionChanged, "photon file \(record.file.path) on disk (checksum \(ready.checksum.prefix(12))) is not the version its instances run (\(running.prefix(12))): an instance is not restarted from it; reload the file to roll it to every instance", file: record.file.path))
                        }
                        return ready
                    }))
                }
            }
            for await (index, result) in group {
                switch result {
                case .success(let file): ready[index] = file
                case .failure(let failure): failures.append((index, failure))
                }
            }
        }
        if let first = failures.min(by: { $0.0 < $1.0 }) { return .failure(IndexedFailure(first)) }
        return .success(ready.map { $0! })
    }

    /// How `record`'s instances roll onto `ready`: `targets` replaced, then (with `resize`)
    /// instances added up to the new file's count, those beyond it dropped. A pool that scales
    /// keeps the count it scaled to, within the new file's range. When `nothingServes` (every
    /// instance stopped or ended), there is nothing to roll around: the instances come up side by
    /// side, as a load brings them up, and a pool that scales comes back at its first count.
    private func plan(_ record: LoadedFile, ready: ReadyFile, replacing targets: [FileCore], resize: Bool, nothingServes: Bool) -> FileRoll {
        var size = poolSize(for: ready.file)
        if size.scales, !nothingServes { size.count = min(max(targets.count, size.count), size.max) }
        let surge = nothingServes ? max(targets.count, size.count) : size.surge
        guard resize else {
            return FileRoll(record: record, ready: ready, slots: targets, added: [], dropped: [], surge: surge, keepsPhotons: true)
        }
        let kept = Array(targets.prefix(size.count))
        let added = targets.count < size.count ? (targets.count + 1...size.count).map { makeInstance($0, of: ready.file, in: record.pool) } : []
        return FileRoll(record: record, ready: ready, slots: kept + added, added: added, dropped: Array(targets.dropFirst(size.count)),
                        surge: surge, keepsPhotons: false)
    }

    /// Spawns, validates and starts a new generation of `roll`'s file in instance `core`.
    private func bringUpGeneration(of roll: FileRoll, in core: FileCore) async -> Result<NewGeneration, GenerationFailure> {
        let clock = ContinuousClock()
        let began = clock.now
        let prepared: PreparedGeneration
        do {
            prepared = try await prepare(roll.ready, selection: roll.record.selection, core: core)
        } catch {
            return .failure(error)
        }
        let ready = clock.now
        // Start what was started, and new photons of a file whose photons were running; an added
        // instance starts what runs in the file's first one.
        let names = prepared.photons.map(\.name)
        let toStart = (roll.added.contains { $0 === core } ? roll.record.core : core).read { $0.photonsToStart(among: names) }
        do {
            try await startPhotons(toStart, of: prepared, in: core)
        } catch {
            return .failure(error)
        }
        return .success(NewGeneration(prepared: prepared, started: toStart, readyAfter: began.duration(to: ready),
                                      startedAfter: ready.duration(to: clock.now)))
    }

    /// A photon name used twice among the new generations of a group, as a failure.
    private func groupClash(_ records: [LoadedFile], _ prepared: [Int: NewGeneration]) -> (Int, GenerationFailure)? {
        var owners: [String: String] = [:]
        let reloading = Set(records.map(\.file.path))
        for (index, record) in records.enumerated() {
            guard let generation = prepared[index] else { continue }
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

    /// Rolls `rolls` back after `records[index]` failed at `failure` (in `instance`, when one
    /// of a pool's instances failed) and returns the error to throw. When something served, the
    /// failed reload is noted on each file and counted.
    private func fail(_ records: [LoadedFile], at index: Int, _ failure: GenerationFailure, nothingServes: Bool, restart: Bool,
                      rolls: [FileRoll], instance: Int? = nil) async -> LoaderError {
        for roll in rolls.reversed() { await roll.rollBack(loader: self) }
        let path = records[index].file.path
        let which = instance.flatMap { records[index].pool.count > 1 || rolls[index].slots.count > 1 ? " (instance \($0))" : nil } ?? ""
        guard !nothingServes else {
            // The new generation's own failure; a restart's is counted and logged as a restart's.
            var error = failure.error
            if let instance, !which.isEmpty {
                error = LoaderError(error.code, "photon file \(path) was not brought up (instance \(instance) failed at step '\(failure.step.rawValue)'): \(error.message)",
                                    photon: error.photon, file: error.file, reply: error.reply, exit: error.exit)
                error.heldElsewhere = failure.error.heldElsewhere
            }
            error.step = failure.step
            if !restart {
                context.log(.error, "photon file \(path) was not brought up again (step '\(failure.step.rawValue)'\(which)): \(failure.error.message)", file: path)
            }
            return error
        }
        for record in records {
            let (step, reason) = record.file.path == path
                ? (failure.step, failure.error.message + which)
                : (ReloadStep.group, "\(path) failed at step '\(failure.step.rawValue)'")
            record.core.apply(.reloadFailed(step: step, reason: reason, at: .now))
            FileCounters.count(record.core.counters.rollbacks)
        }
        let serving = records[index].pool.count > 1 ? "the generations it replaced keep serving" : "generation \(records[index].core.read { $0.serving?.number ?? 0 }) keeps serving"
        var error = LoaderError(.reloadRolledBack, "reload of \(path) rolled back at step '\(failure.step.rawValue)'\(which): \(failure.error.message); \(serving)",
                                photon: failure.error.photon, file: path, exit: failure.error.exit)
        error.step = failure.step
        return error
    }

    /// The error of a reload of the photon file at `path` that a stop or an unload of it gave up
    /// (`abandonBringUps`), in place of `error`, its failure: what the new worker died of is the
    /// stop's doing.
    private func givenUp(_ error: LoaderError, _ path: String, nothingServes: Bool) -> LoaderError {
        var given = LoaderError(error.code, "photon file \(path) was not \(nothingServes ? "brought up" : "reloaded"): a stop or an unload of it gave its new worker up", file: path)
        given.step = error.step
        return given
    }

    /// Drains and stops the replaced generation, then reports the reload.
    static func retire(_ old: Retiring, context: LoaderContext) async {
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

/// A failure of one of a reload's files, with the file's index.
struct IndexedFailure: Error {
    let index: Int
    let failure: GenerationFailure

    init(_ indexed: (Int, GenerationFailure)) {
        (index, failure) = indexed
    }
}

/// A generation replaced by a reload, to drain and stop.
struct Retiring: Sendable {
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
