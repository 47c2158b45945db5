import LuminalWorker

extension Loader {
    /// Stops the worker of the photon file of the photon named `nameOrPath` (or at that path) and
    /// keeps the file loaded: its photons stay listed as stopped, are neither restarted nor
    /// reloaded on change, and `startPhoton` brings them back. Stopping is graceful like an
    /// unload (drain, finalizers, SIGTERM, SIGKILL); `forceStop` skips the finalizers. A failed
    /// photon file (`failedFiles`) has nothing running: it is held (`FailedFile.stopped`), tried
    /// again neither by itself nor on a change until `startPhoton`.
    @discardableResult
    public func stopPhoton(_ nameOrPath: String, forceStop: Bool = false) async throws(LoaderError) -> UnloadOutcome {
        if let failure = failedFile(at: nameOrPath) { return hold(failure) }
        let path = try filePath(of: nameOrPath)
        abandonComingUp(of: [path])
        await enterGate([path])
        defer { gate.leave([path]) }
        guard let record = records[path].loaded else {
            throw LoaderError(.photonNotFound, "photon file \(path) was unloaded while waiting to stop", file: path)
        }
        return await Self.stop(record, hold: true, forceStop: forceStop, timeouts: stopTimeouts(for: record.file), context: context)
    }

    /// Starts the photons of the photon file of the photon named `nameOrPath` (or at that path).
    ///
    /// A running worker's photons are started; a file that was stopped, crashed or is quarantined
    /// gets a new generation from the file as it is now, whose photons are then started; its
    /// failure count is reset. Of a pool, each instance that crashed or is quarantined while
    /// others serve gets a new generation of the version they run. Returns the file's handlers (the same objects as before). A
    /// failed photon file (`failedFiles`), held or not, is loaded as it is now and its photons started.
    @discardableResult
    public func startPhoton(_ nameOrPath: String) async throws(LoaderError) -> [Handler] {
        if let failure = failedFile(at: nameOrPath) { return try await retry(failure, starting: true) }
        return try await start(filePath(of: nameOrPath), as: nil)
    }

    /// `startPhoton` of the loaded file at `path`. A file whose instances all ended comes back as
    /// `version` if given (the one a restart checked), else as it is on disk now.
    private func start(_ path: String, as version: FileVersion?) async throws(LoaderError) -> [Handler] {
        var handlers = records[path].loaded?.handlers ?? []
        if let pool = records[path].loaded?.pool {
            let ended = pool.cores.filter { $0.read(\.allFinal) }
            if ended.count == pool.count {
                pool.cores.forEach { $0.apply(.revived) }
                handlers = try await reload([path], versions: version.map { [path: $0] } ?? [:])
            } else {
                // Instances of a pool that crashed or are quarantined come back on their own.
                for core in ended {
                    core.apply(.revived)
                    handlers = try await reload([path], instance: core.instance)
                }
            }
        }
        for handler in handlers { try await handler.start() }
        return handlers
    }

    /// Stops, then starts the photons of the photon file of the photon named `nameOrPath` (or at
    /// that path), as `stopPhoton` and `startPhoton` do, from the file as it is when the restart
    /// is asked. That file is read and checked first, and if no worker of it could be started (a
    /// manifest that does not parse, an identity that cannot be used, a descriptor limit that
    /// leaves it nothing), the restart is refused and nothing is stopped; the version checked is
    /// the one started, whatever happens to the manifest while the old worker stops (a watched
    /// folder's file is then looked at again: a change made meanwhile is reloaded). A failed
    /// photon file has nothing to stop: it is tried again.
    @discardableResult
    public func restartPhoton(_ nameOrPath: String, forceStop: Bool = false) async throws(LoaderError) -> [Handler] {
        if failedFile(at: nameOrPath) != nil { return try await startPhoton(nameOrPath) }
        let path = try filePath(of: nameOrPath)
        let version: FileVersion
        do {
            let file = try await PhotonScan.resolving(path)
            try file.checkStartable(settings: context.configuration.workerSettings)
            version = FileVersion(file: file, checksum: try await checksum(of: file))
        } catch {
            let refusal = LoaderError(error.code, "restart of \(path) refused, nothing was stopped: \(error.message)", photon: error.photon, file: path)
            context.log(.warning, refusal.message, file: path)
            throw refusal
        }
        restarting.insert(path)
        defer { restarting.remove(path) }
        try await stopPhoton(path, forceStop: forceStop)
        // A change seen while the old worker stopped was left for the restart: the disk may no
        // longer hold the version checked.
        do {
            let handlers = try await start(path, as: version)
            await watcher?.lookAgain(path)
            return handlers
        } catch {
            await watcher?.lookAgain(path)
            throw error
        }
    }

    /// The error of a reload or a load refused because the operator stopped the photon file at
    /// `path`, or a restart of it is under way.
    func heldError(_ path: String) -> LoaderError {
        if restarting.contains(path) {
            return LoaderError(.notStarted, "photon file \(path) is being restarted; try again once the restart is over", file: path)
        }
        return LoaderError(.notStarted, "photon file \(path) is stopped; start it to run the file as it is now", file: path)
    }

    /// Whether the photon file at `path` was stopped on purpose and not started since.
    func isHeld(_ path: String) -> Bool {
        records[path].loaded?.core.read(\.held) == true
    }
}

extension Loader {
    /// Ends every worker now: SIGKILL to each worker's whole tree, whatever it is doing. Stops
    /// and unloads in progress then finish at once (an operator's second Ctrl-C), and the photon
    /// files being hashed for loads are given up on.
    public nonisolated func killAllWorkers() {
        context.hashes.cancelAll()
        for worker in context.liveWorkers where worker.process.exitStatus == nil {
            context.killNow(worker)
        }
    }
}
