import LuminalWorker

/// One photon file's part in a reload: the instances that get a new generation, brought up in
/// batches of the file's surge, and what each batch's take-over replaced, kept until the reload
/// is over so that it can be rolled back (`Loader.reload`).
struct FileRoll {
    let record: Loader.LoadedFile
    /// The file as the new generations are spawned from.
    let ready: ReadyFile
    /// The instances that get a new generation, in order: those replaced, then those added.
    let slots: [FileCore]
    /// The instances the reload adds (the new file asks for more).
    let added: [FileCore]
    /// The instances the reload stops once it is over (the new file asks for fewer).
    let dropped: [FileCore]
    /// How many instances a batch brings up.
    let surge: Int
    /// The file's handlers once a batch took over: the same objects for the photons it kept.
    private(set) var handlers: [Handler]
    /// The photons every new generation must declare: the first one's (an instance's restart:
    /// those the file's instances serve).
    private(set) var photons: [PhotonDescriptor]?
    /// The generations replaced so far: closed to calls, alive until the reload is over.
    private(set) var parked: [Parked] = []
    /// The added instances that took over, with their generation.
    private var joined: [(core: FileCore, generation: NewGeneration)] = []

    init(record: Loader.LoadedFile, ready: ReadyFile, slots: [FileCore], added: [FileCore], dropped: [FileCore], surge: Int,
         keepsPhotons: Bool) {
        self.record = record
        self.ready = ready
        self.slots = slots
        self.added = added
        self.dropped = dropped
        self.surge = max(surge, 1)
        handlers = keepsPhotons ? record.handlers : []
        photons = keepsPhotons ? record.pool.servedPhotons : nil
    }

    /// How many batches the roll takes.
    var batchCount: Int { (slots.count + surge - 1) / surge }

    /// The instances of batch `index`.
    func batch(_ index: Int) -> ArraySlice<FileCore> {
        let low = min(index * surge, slots.count)
        return slots[low..<min(low + surge, slots.count)]
    }

    /// Why `generation` cannot join the others of this reload: it declares other photons
    /// (`InstanceMismatch`).
    mutating func mismatch(_ generation: NewGeneration) -> GenerationFailure? {
        let declared = generation.prepared.photons
        guard let photons else {
            photons = declared
            return nil
        }
        return InstanceMismatch.check(declared, of: generation.prepared.worker.instance, against: photons, file: record.file.path)
    }

    /// `generation` takes over in instance `core`: calls go to it from now on; the generation it
    /// replaces is closed to calls and parked.
    mutating func takeOver(in core: FileCore, by generation: NewGeneration, restart: Bool, loader: isolated Loader) {
        let prepared = generation.prepared
        if handlers.isEmpty {
            handlers = prepared.photons.map { photon in
                record.handlers.first { $0.name == photon.name } ?? Handler(name: photon.name, pool: record.pool)
            }
        }
        let old = core.read { lifecycle in
            lifecycle.serving.map { serving in
                Parked(core: core, worker: serving.connection, started: lifecycle.startedMembers,
                       photons: lifecycle.members.compactMap { lifecycle.photons[$0]?.descriptor },
                       checksum: lifecycle.members.first.flatMap { lifecycle.photons[$0]?.checksum } ?? "", replacedBy: generation)
            }
        }
        core.apply(.serving(number: prepared.worker.generation, photons: prepared.photons, started: generation.started,
                            checksum: prepared.checksum, policy: loader.restartPolicy(for: prepared.file), restart: restart,
                            at: .now, random: .random(in: 0...1)))
        loader.superviseHealth(of: prepared.worker)
        if let old {
            parked.append(old)
        } else {
            if added.contains(where: { $0 === core }) { record.pool.add(core) }
            joined.append((core, generation))
        }
    }

    /// Undoes the batches that took over: each replaced generation still alive serves again and
    /// its replacement is retired; added instances are stopped and leave the pool.
    func rollBack(loader: isolated Loader) async {
        let context = loader.context
        let timeouts = loader.stopTimeouts(for: record.file)
        var retiring: [(core: FileCore, worker: Worker, started: [String])] = []
        for old in parked.reversed() {
            let core = old.core
            // A replaced generation that ended meanwhile takes over as one that ended serving: the
            // instance is restarted by its policy (from the version the pool runs), never left on
            // the version the reload rolls back.
            let alive = core.read { $0.generation(old.worker.generation).map { !$0.hasEnded } ?? false }
            if alive { old.worker.reopenToCalls() }
            core.apply(.serving(number: old.worker.generation, photons: old.photons, started: Set(old.started), checksum: old.checksum,
                                policy: loader.restartPolicy(for: old.worker.file), restart: false, at: .now, random: .random(in: 0...1)))
            if alive { loader.superviseHealth(of: old.worker) }
            retiring.append((core, old.replacedBy.prepared.worker, Array(old.replacedBy.started)))
        }
        for (core, _) in joined {
            record.pool.remove(core)
        }
        for core in added { core.discard() }
        await withTaskGroup(of: Void.self) { group in
            for (core, worker, started) in retiring {
                group.addTask {
                    await worker.drainOrCancel(timeout: context.configuration.drainTimeout, "rolled back")
                    _ = await worker.stop(graceful: true, started: started, timeouts: timeouts)
                    core.apply(.removed(number: worker.generation))
                }
            }
            for (core, _) in joined {
                group.addTask { await Loader.stopInstance(core, because: "the reload that added it was rolled back", timeouts: timeouts, context: context) }
            }
        }
        // A stopped worker may have shut the sockets the other instances share down.
        Loader.keepListening(record.sockets, of: record.file.path, context: context)
    }
}

/// A generation a reload replaced, closed to calls and alive until the reload is over: retired
/// then, or serving again if the reload rolls back.
struct Parked: Sendable {
    let core: FileCore
    let worker: Worker
    /// Its photons whose start routines ran.
    let started: [String]
    /// Its photons as they were declared, and its checksum, to serve them again.
    let photons: [PhotonDescriptor]
    let checksum: String
    let replacedBy: NewGeneration

    /// It is to be drained and stopped.
    func retiring(timeouts: StopTimeouts, sockets: [HeldSocket]) -> Retiring {
        Retiring(core: core, worker: worker, started: started, replacedBy: replacedBy, timeouts: timeouts, sockets: sockets)
    }
}
