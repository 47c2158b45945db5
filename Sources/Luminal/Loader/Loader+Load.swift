import LuminalSystem
import LuminalWire
import LuminalWorker

extension Loader {
    /// Loads one photon file — an executable, or a package folder with `photon.json` — and returns
    /// the handlers of its photons whose kinds include `base` or whose names are in `otherClasses`;
    /// with `base` `nil`, of every photon it declares, whatever its kinds.
    ///
    /// A file that is already loaded is a warning and returns `[]`. With `recursive`, a plain folder
    /// is loaded as by `loadPhotons(in:recursive: true)`.
    @discardableResult
    public func loadPhoton(at path: String, base: String? = "IPhoton", otherClasses: [String] = [],
                           recursive: Bool = false) async throws(LoaderError) -> [Handler] {
        if recursive, Paths.kind(Paths.absolute(path)) == .directory, !PhotonScan.isPackage(Paths.absolute(path)) {
            return try await loadPhotons(in: path, base: base, otherClasses: otherClasses, recursive: true)
        }
        return try await load(resolve(path), selection: PhotonSelection(base: base, otherClasses: otherClasses))
    }

    /// Loads every photon file in `directory` (descending into plain sub-folders when `recursive`)
    /// and returns the handlers of their photons, in path order; `base` and `otherClasses` choose
    /// the photons as for `loadPhoton(at:)`. They load side by side, `bringUpWidth` at a time.
    ///
    /// Without `suppressErrors`, the first failure (in path order) is thrown and the photons this
    /// call loaded are unloaded again: the batch is all or nothing. With `suppressErrors`, a broken
    /// photon file is logged, reported as `loadFailed`, and skipped.
    @discardableResult
    public func loadPhotons(in directory: String, base: String? = "IPhoton", otherClasses: [String] = [],
                            recursive: Bool = false) async throws(LoaderError) -> [Handler] {
        var paths: [String] = []
        for entry in try await PhotonScan.scanning(directory, recursive: recursive, preferring: records.loadedPaths) {
            switch entry {
            case .photonFile(let path): paths.append(path)
            case .skipped(let path, let reason): reportSkipped(path, reason: reason)
            }
        }
        // A load still waiting for a place when every photon is unloaded is not begun afterwards.
        let asked = context.hashes.mark
        let results = await withTaskGroup(of: (Int, Result<[Handler], LoaderError>).self) { group in
            for (index, path) in paths.enumerated() {
                group.addTask {
                    let place = await self.takeBringUpPlace()
                    defer { place.release() }
                    return (index, await Result(awaiting: { () async throws(LoaderError) in
                        try await self.load(self.resolve(path), selection: PhotonSelection(base: base, otherClasses: otherClasses), asked: asked)
                    }))
                }
            }
            var ordered = [Result<[Handler], LoaderError>?](repeating: nil, count: paths.count)
            for await (index, result) in group { ordered[index] = result }
            return ordered.compactMap { $0 }
        }
        var handlers: [Handler] = []
        var firstError: LoaderError?
        for (path, result) in zip(paths, results) {
            switch result {
            case .success(let loaded): handlers += loaded
            case .failure(let error):
                firstError = firstError ?? error
                // Every photon unloaded meanwhile, none of them is remembered (nor retried).
                if suppressErrors, !context.hashes.isCancelled(since: asked) { recordFailedLoad(Paths.absolute(path), error, selection: PhotonSelection(base: base, otherClasses: otherClasses)) }
            }
        }
        if let firstError, !suppressErrors {
            _ = await unload(Set(handlers.map(\.filePath)), forceStop: false)
            throw firstError
        }
        return handlers
    }

    /// Spawns `file`'s first generation, validates its hello against `selection`, and registers it;
    /// `checksum` is the file's, when known already (`FileVersion`). A load `asked` for at a mark
    /// of `context.hashes` that every photon was unloaded (or every worker killed) since is not
    /// begun, nor is any while `unloadAll` waits for the loads in progress: it fails, so nothing
    /// registers behind `unloadAll`'s back.
    package func load(_ file: PhotonFile, selection: PhotonSelection, checksum: String? = nil, asked: Int? = nil) async throws(LoaderError) -> [Handler] {
        guard records[file.path].loaded == nil, !records[file.path].isLoading else {
            context.log.limited(.warning, "load.alreadyLoaded", subject: file.path, secondLoadError(file.path).message, file: file.path)
            return []
        }
        if unloadsOfAll > 0 || asked.map(context.hashes.isCancelled(since:)) == true {
            let error = LoaderError(.unloaded, "photon file \(file.path) was not loaded: every photon was unloaded while its load waited to begin", file: file.path)
            reportLoadFailure(error, file: file.path)
            throw error
        }
        context.events.emit(.loadStarted(file: file.path))
        let pool = InstancePool(makeInstance(1, of: file))
        // A bring-up (`loadAndStart`) owns the record of its load, and ends it.
        let bringUp = records[file.path].load != nil
        if !bringUp { records[file.path].load = FileLoad() }
        records[file.path].load?.pool = pool
        BurstTrim.began(.load)
        defer {
            if bringUp { records[file.path].load?.pool = nil } else { records[file.path].load = nil }
            if records.loadsInProgress == 0 {
                loadWaiters.forEach { $0.resume() }
                loadWaiters = []
            }
            BurstTrim.ended()
        }
        do {
            return try await register(file, pool: pool, selection: selection, checksum: checksum)
        } catch {
            pool.cores.forEach { $0.discard() }
            reportLoadFailure(error, file: file.path)
            throw error
        }
    }

    /// Why a load of the photon file at `path` loaded nothing: it is loaded, or being loaded, already.
    package func secondLoadError(_ path: String) -> LoaderError {
        guard records[path].loaded == nil else {
            return LoaderError(.alreadyLoaded, "photon file \(path) is already loaded; unload or reload it instead", file: path)
        }
        return Self.beingLoadedError(path)
    }

    /// The photon file at `path`, resolved off the actor (it reads a manifest); a failure is
    /// reported as `load` reports one.
    private func resolve(_ path: String) async throws(LoaderError) -> PhotonFile {
        do {
            return try await PhotonScan.resolving(path)
        } catch {
            reportLoadFailure(error, file: Paths.absolute(path))
            throw error
        }
    }

    /// Logs a failed load of the photon file at `file` and emits `loadFailed` for it.
    nonisolated func reportLoadFailure(_ error: LoaderError, file: String) {
        context.log.limited(.error, "load.failed", subject: file, error.message, file: file)
        context.events.emit(.loadFailed(file: file, error: error))
    }

    /// Logs that the entry at `path` was passed over, and why, and emits `skipped` for it.
    nonisolated func reportSkipped(_ path: String, reason: String) {
        context.log.limited(.warning, "skipped", subject: path, "skipped \(path): \(reason)", file: path)
        context.events.emit(.skipped(file: path, reason: reason))
    }

    /// Brings up every instance of `file` side by side and registers them; if one fails, every
    /// other is stopped and the load fails with its error.
    private func register(_ file: PhotonFile, pool: InstancePool, selection: PhotonSelection, checksum: String?) async throws(LoaderError) -> [Handler] {
        let ready: ReadyFile
        do {
            ready = try await readyFile(file, checksum: checksum)
        } catch {
            throw error.error
        }
        for number in 1..<poolSize(for: file).count { pool.add(makeInstance(number + 1, of: file, in: pool)) }
        let cores = pool.cores
        var prepared: [PreparedGeneration] = []
        do {
            prepared = try await prepareInstances(cores, of: ready, selection: selection)
        } catch {
            throw error.error
        }
        let handlers = prepared[0].photons.map { Handler(name: $0.name, pool: pool) }
        for (core, generation) in zip(cores, prepared) {
            let effects = core.apply(.serving(number: generation.worker.generation, photons: generation.photons, started: [], checksum: ready.checksum,
                                              policy: restartPolicy(for: file), restart: false, at: .now, random: .random(in: 0...1)))
            for case .refuse(let error) in effects {
                for other in prepared {
                    _ = await other.worker.stop(graceful: false, started: [], timeouts: stopTimeouts(for: file))
                }
                throw error
            }
        }
        records[file.path].loaded = LoadedFile(pool: pool, file: file, handlers: handlers, selection: selection, sockets: ready.sockets)
        forgetFailedFile(file.path)
        records[file.path].failedVersion = nil
        superviseRecycling()
        superviseScaling(of: records[file.path].loaded!)
        prepared.forEach { superviseHealth(of: $0.worker) }
        return handlers
    }

    /// Spawns a generation of `ready`'s file in each of `cores`, side by side, and validates
    /// their hellos as `prepare` does; each must choose the same photons as the first. If one
    /// fails, the others are stopped and the first failure (in instance order) is thrown.
    func prepareInstances(_ cores: [FileCore], of ready: ReadyFile, selection: PhotonSelection) async throws(GenerationFailure) -> [PreparedGeneration] {
        var results = [Result<PreparedGeneration, GenerationFailure>?](repeating: nil, count: cores.count)
        await withTaskGroup(of: (Int, Result<PreparedGeneration, GenerationFailure>).self) { group in
            for (index, core) in cores.enumerated() {
                group.addTask {
                    (index, await Result(awaiting: { () async throws(GenerationFailure) in try await self.prepare(ready, selection: selection, core: core) }))
                }
            }
            for await (index, result) in group { results[index] = result }
        }
        let prepared = results.compactMap { try? $0?.get() }
        var failure: GenerationFailure?
        for result in results {
            if case .failure(let error)? = result { failure = error; break }
        }
        if failure == nil, let first = prepared.first {
            failure = prepared.dropFirst().lazy.compactMap { other in
                InstanceMismatch.check(other.photons, of: other.worker.instance, against: first.photons, file: ready.file.path)
            }.first
        }
        guard let failure else { return prepared }
        for (core, result) in zip(cores, results) {
            if case .success(let generation)? = result { await abandon(generation.worker, of: core, graceful: false) }
        }
        throw failure
    }

    /// The checksum of `file`'s bytes (its `contentPaths`).
    func checksum(of file: PhotonFile) async throws(LoaderError) -> String {
        do {
            return try await FileDigest.digest(of: file.contentPaths, cancellations: [context.hashes])
        } catch {
            throw LoaderError(.photonNotFound, "photon file \(file.path) cannot be read: \(error)", file: file.path)
        }
    }

    /// `file` hashed (unless its `known` checksum is given) and its sockets held, for its instances
    /// to be spawned from; refused first if no worker of it could be started (`PhotonFile.checkStartable`,
    /// or only its limits for a file without sockets).
    func readyFile(_ file: PhotonFile, checksum known: String? = nil) async throws(GenerationFailure) -> ReadyFile {
        do {
            // The spawn checks the identity and root trust again (a walk of every folder above
            // the file): before it, only where sockets would be bound first, and their files left.
            if file.sockets.isEmpty {
                try file.checkLimits(over: context.configuration.limits)
            } else {
                try file.checkStartable(settings: context.configuration.workerSettings)
            }
        } catch {
            throw GenerationFailure(.spawn, error)
        }
        let checksum: String
        if let known {
            checksum = known
        } else {
            do throws(LoaderError) {
                checksum = try await self.checksum(of: file)
            } catch {
                throw GenerationFailure(.resolve, error)
            }
        }
        do {
            return ReadyFile(file: file, checksum: checksum, sockets: try holdSockets(of: file))
        } catch {
            throw GenerationFailure(.sockets, error)
        }
    }

    /// Spawns a generation of `ready`'s file in `core` and validates its hello against
    /// `selection` and the names other photon files already use. On failure the new worker is
    /// stopped and the step named.
    func prepare(_ ready: ReadyFile, selection: PhotonSelection, core: FileCore) async throws(GenerationFailure) -> PreparedGeneration {
        let began = context.hashes.mark
        let file = ready.file
        let number = core.read(\.nextGeneration)
        let hooks = core.hooks(generation: number)
        let worker: Worker
        do {
            // The spawn and the /proc reads after it block: on the spawn thread, not the loader's executor.
            worker = try await SpawnThread.shared.perform { () throws(LoaderError) -> Worker in
                try Worker(file: file, generation: number, instance: core.instance, settings: self.context.configuration.workerSettings,
                           hooks: hooks, sockets: ready.sockets)
            }
        } catch {
            throw GenerationFailure(.spawn, error)
        }
        core.apply(.spawned(number: number, connection: worker, pid: worker.pid, plain: file.plain != nil))
        if number == 1, core.instance == 1 { warnOfUnenforcedLimits(worker) }
        if context.hashes.isCancelled(since: began) || records[file.path].load?.abandoned == true {
            // Every photon was unloaded (or every worker killed), or this load was abandoned,
            // while this one was being spawned: it is killed like the workers of the loads
            // already waiting for their hellos.
            context.killNow(worker)
        }
        let hello: Hello
        do {
            hello = try await worker.awaitHello()
        } catch {
            await abandon(worker, of: core, graceful: false)
            throw GenerationFailure(.handshake, error)
        }
        let chosen: [PhotonDescriptor]
        switch choose(from: hello, of: worker, selection: selection) {
        case .success(let photons):
            chosen = photons
        case .failure(let refusal):
            await abandon(worker, of: core, graceful: true)
            throw GenerationFailure(.validate, refusal)
        }
        core.apply(.prepared(number: number, photons: chosen.map(\.name)))
        return PreparedGeneration(file: file, worker: worker, photons: chosen, checksum: ready.checksum, sockets: ready.sockets)
    }

    /// Logs each limit of `worker`'s containment that this host cannot enforce.
    ///
    /// Not inside `prepare`, as none of what follows is: an async function keeps every value
    /// it makes in its frame, and a thousand loads wait for their hellos in `prepare` at once.
    private func warnOfUnenforcedLimits(_ worker: Worker) {
        let file = worker.file
        for limit in worker.containment.limits where !limit.enforced {
            context.log.limited(.warning, "limits.unenforced", subject: file.path, "photon file \(file.path): limit '\(limit.key)' (\(limit.value)) cannot be enforced on this host: \(limit.reason ?? "")", file: file.path)
        }
    }

    /// The photons of `hello` that `selection` chooses, or why the generation is refused: none
    /// is chosen, or one's name is taken by another photon file.
    private func choose(from hello: Hello, of worker: Worker, selection: PhotonSelection) -> Result<[PhotonDescriptor], LoaderError> {
        let file = worker.file
        if file.plain == nil, hello.pid != Int(worker.pid) {
            // The hello's pid is informational: the process spawned is what is supervised.
            context.log(.warning, "photon file \(file.path) said hello with pid \(hello.pid), not the pid of the process started for it (a wrapper that forks instead of exec?); Luminal supervises pid \(worker.pid) and its process tree", file: file.path)
        }
        // A plain executable declares no kinds: it is always what its file was loaded for.
        let chosen = file.plain == nil ? hello.photons.filter(selection.chooses) : hello.photons
        if chosen.isEmpty {
            let declared = hello.photons.map { "\($0.name) (kinds: \($0.kinds.joined(separator: ", ")))" }.joined(separator: "; ")
            let others = selection.otherClasses.isEmpty ? "" : " or is named in \(selection.otherClasses)"
            return .failure(LoaderError(.noPhotonOfBase, "photon file \(file.path) declares \(declared); none has kind '\(selection.base ?? "")'\(others), so it is not a photon file for this load and was stopped", file: file.path))
        }
        if let (clash, holder) = firstClash(chosen.map(\.name), outside: file.path) {
            return .failure(LoaderError(.duplicatePhotonName, "photon \(clash) in \(file.path) clashes with photon \(clash) already loaded from \(holder); rename one of them", photon: clash, file: file.path))
        }
        return .success(chosen)
    }

    /// Starts the photons of `prepared` named in `toStart`, in its order (none of a plain
    /// executable's): a generation brought up beside others (a reload, a restart, a scale-up).
    /// At a failed start the worker is abandoned and the failure thrown.
    func startPhotons(_ toStart: Set<String>, of prepared: PreparedGeneration, in core: FileCore) async throws(GenerationFailure) {
        guard prepared.worker.file.plain == nil else { return }
        for photon in prepared.photons.map(\.name) where toStart.contains(photon) {
            do {
                _ = try await prepared.worker.send(.start(photon: photon), timeout: context.configuration.startTimeout)
            } catch {
                await abandon(prepared.worker, of: core, graceful: false)
                throw GenerationFailure(.start, error)
            }
        }
    }

    /// Stops a generation that will not serve, and forgets it.
    package func abandon(_ worker: Worker, of core: FileCore, graceful: Bool) async {
        core.apply(.abandoned(number: worker.generation))
        _ = await worker.stop(graceful: graceful, started: [], timeouts: stopTimeouts(for: worker.file))
        core.apply(.removed(number: worker.generation))
    }

    /// The first of `names` that a loaded photon file other than `path` already uses, with that file.
    func firstClash(_ names: [String], outside path: String) -> (String, String)? {
        for name in names {
            if let holder = records.handler(named: name), holder.filePath != path { return (name, holder.filePath) }
        }
        return nil
    }

    /// The stop and kill timeouts for `file`, its manifest's overriding the loader's.
    func stopTimeouts(for file: PhotonFile) -> StopTimeouts {
        StopTimeouts(stop: file.timeouts.stop ?? context.configuration.stopTimeout,
                     kill: file.timeouts.kill ?? context.configuration.killTimeout)
    }
}
