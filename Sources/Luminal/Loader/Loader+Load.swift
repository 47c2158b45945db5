import LuminalWire

extension Loader {
    /// Loads one photon file — an executable, or a package folder with `photon.json` — and returns
    /// the handlers of its photons whose kinds include `base` or whose names are in `otherClasses`.
    ///
    /// A file that is already loaded is a warning and returns `[]`. With `recursive`, a plain folder
    /// is loaded as by `loadPhotons(in:recursive: true)`.
    @discardableResult
    public func loadPhoton(at path: String, base: String = "IPhoton", otherClasses: [String] = [],
                           recursive: Bool = false) async throws(LoaderError) -> [Handler] {
        if recursive, Paths.kind(Paths.absolute(path)) == .directory, !PhotonScan.isPackage(Paths.absolute(path)) {
            return try await loadPhotons(in: path, base: base, otherClasses: otherClasses, recursive: true)
        }
        return try await emit(PhotonScan.resolve(path), base: base, otherClasses: otherClasses)
    }

    /// Loads every photon file in `directory` (descending into plain sub-folders when `recursive`)
    /// and returns the handlers of their photons, in path order.
    ///
    /// Without `suppressErrors`, the first failure (in path order) is thrown and the photons this
    /// call loaded are unloaded again: the batch is all or nothing. With `suppressErrors`, a broken
    /// photon file is logged, reported as `loadFailed`, and skipped.
    @discardableResult
    public func loadPhotons(in directory: String, base: String = "IPhoton", otherClasses: [String] = [],
                            recursive: Bool = false) async throws(LoaderError) -> [Handler] {
        var paths: [String] = []
        for entry in try PhotonScan.scan(directory, recursive: recursive) {
            switch entry {
            case .photonFile(let path): paths.append(path)
            case .skipped(let path, let reason): context.log(.info, "skipped \(path): \(reason)", file: path)
            }
        }
        let results = await withTaskGroup(of: (Int, Result<[Handler], LoaderError>).self) { group in
            for (index, path) in paths.enumerated() {
                group.addTask {
                    do throws(LoaderError) {
                        return (index, .success(try await self.emit(PhotonScan.resolve(path), base: base, otherClasses: otherClasses)))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var ordered = [Result<[Handler], LoaderError>?](repeating: nil, count: paths.count)
            for await (index, result) in group { ordered[index] = result }
            return ordered.compactMap { $0 }
        }
        var handlers: [Handler] = []
        var firstError: LoaderError?
        for result in results {
            switch result {
            case .success(let loaded): handlers += loaded
            case .failure(let error): firstError = firstError ?? error
            }
        }
        if let firstError, !suppressErrors {
            _ = await absorb(Set(handlers.map(\.filePath)), forceStop: false)
            throw firstError
        }
        return handlers
    }

    /// Spawns `file`'s worker, validates its hello against `base`/`otherClasses`, and registers it.
    func emit(_ file: PhotonFile, base: String, otherClasses: [String]) async throws(LoaderError) -> [Handler] {
        guard files[file.path] == nil, !loading.contains(file.path) else {
            context.log(.warning, "photon file \(file.path) is already loaded; unload or reload it instead", file: file.path)
            return []
        }
        loading.insert(file.path)
        defer { loading.remove(file.path) }
        do {
            return try await spawnAndRegister(file, base: base, otherClasses: otherClasses)
        } catch {
            context.log(.error, error.message, file: file.path)
            context.events.emit(.loadFailed(file: file.path, error: error))
            throw error
        }
    }

    private func spawnAndRegister(_ file: PhotonFile, base: String, otherClasses: [String]) async throws(LoaderError) -> [Handler] {
        let checksum: String
        do {
            checksum = try FileDigest.sha256(of: file.contentPaths)
        } catch {
            throw LoaderError(.photonNotFound, "photon file \(file.path) cannot be read: \(error)", file: file.path)
        }
        var configuration = context.configuration
        configuration.handshakeTimeout = file.timeouts.handshake ?? configuration.handshakeTimeout
        let owner = WorkerOwner(context: context)
        let worker = try Worker(file: file, generation: 1, configuration: configuration, hooks: owner.hooks(file: file.path))
        let hello: Hello
        do {
            hello = try await worker.awaitHello()
        } catch {
            _ = await worker.stop(graceful: false, started: [], timeouts: stopTimeouts(for: file))
            throw error
        }
        let chosen = hello.photons.filter { $0.kinds.contains(base) || otherClasses.contains($0.name) }
        var refusal: LoaderError?
        if chosen.isEmpty {
            let declared = hello.photons.map { "\($0.name) (kinds: \($0.kinds.joined(separator: ", ")))" }.joined(separator: "; ")
            let others = otherClasses.isEmpty ? "" : " or is named in \(otherClasses)"
            refusal = LoaderError(.noPhotonOfBase, "photon file \(file.path) declares \(declared); none has kind '\(base)'\(others), so it is not a photon file for this load and was stopped", file: file.path)
        } else if let clash = chosen.first(where: { name in files.values.contains { $0.handlers.contains { $0.name == name.name } } }) {
            let holder = files.values.first { $0.handlers.contains { $0.name == clash.name } }!.file.path
            refusal = LoaderError(.duplicatePhotonName, "photon \(clash.name) in \(file.path) clashes with photon \(clash.name) already loaded from \(holder); rename one of them", photon: clash.name, file: file.path)
        }
        if let refusal {
            _ = await worker.stop(graceful: true, started: [], timeouts: stopTimeouts(for: file))
            throw refusal
        }
        let handlers = chosen.map { Handler(descriptor: $0, worker: worker, checksum: checksum, context: context) }
        owner.adopt(handlers, pid: worker.pid)
        if worker.phase == .exited || worker.protocolFault != nil {
            _ = await worker.stop(graceful: false, started: [], timeouts: stopTimeouts(for: file))
            throw LoaderError(.workerExited, "photon file \(file.path) ended right after its hello (\(handlers.first!.state))", file: file.path, exit: worker.process.exitStatus)
        }
        files[file.path] = LoadedFile(file: file, worker: worker, handlers: handlers)
        let names = handlers.map(\.name)
        context.log(.info, "loaded \(names.joined(separator: ", ")) from \(file.path) (pid \(worker.pid))", file: file.path)
        context.events.emit(.loaded(file: file.path, photons: names, pid: worker.pid, generation: worker.generation))
        return handlers
    }

    /// The stop and kill timeouts for `file`, its manifest's overriding the loader's.
    func stopTimeouts(for file: PhotonFile) -> StopTimeouts {
        StopTimeouts(stop: file.timeouts.stop ?? context.configuration.stopTimeout,
                     kill: file.timeouts.kill ?? context.configuration.killTimeout)
    }
}
