import LuminalWorker

extension Loader {
    /// Sets the restart policy of the loaded photon file of the photon named `nameOrPath`, or at
    /// that path, overriding the loader's and its manifest's until it is unloaded.
    public func setRestartPolicy(_ policy: RestartPolicy, for nameOrPath: String) throws(LoaderError) {
        let path = try filePath(of: nameOrPath)
        records[path].loaded?.pool.cores.forEach { $0.apply(.policySet(policy)) }
    }

    /// The restart policy `file` asks for: the loader's, with the manifest's mode.
    func restartPolicy(for file: PhotonFile) -> RestartPolicy {
        var policy = context.configuration.restart
        policy.mode = file.restart ?? policy.mode
        policy.essential = file.essential || policy.essential
        return policy
    }

    /// Starts the heartbeat of a protocol worker that now serves.
    func superviseHealth(of worker: Worker) {
        if worker.file.plain == nil {
            worker.startHeartbeat(worker.file.health ?? context.configuration.health)
        }
    }

    /// Brings up a new generation of instance `number` of a file, whose serving generation ended
    /// on its own (the restart its lifecycle scheduled); a failure to do so counts as another
    /// failure. A file of one instance is brought up from the file as it is now; one instance of
    /// a pool, from the manifest its other instances were spawned from.
    package func restart(_ path: String, instance number: Int) async {
        guard let record = records[path].loaded, let core = record.pool.cores.first(where: { $0.instance == number }) else { return }
        for case .refuse in core.apply(.restartDue) { return }
        let pooled = record.pool.count > 1
        do {
            let handlers = try await reload([path], restart: true, instance: pooled ? number : nil)
            // A reload that lowered the count meanwhile took the instance out: nothing restarted.
            guard records[path].loaded?.pool.cores.contains(where: { $0 === core }) == true else { return }
            let snapshot = handlers.first.flatMap { core.snapshot(of: $0.name) }
            let generation = snapshot?.generation ?? 0
            context.log(.info, "restarted \(path)\(pooled ? " instance \(number)" : ""): generation \(generation)", file: path)
            context.events.emit(.restarted(file: path, generation: generation, restarts: snapshot?.restarts ?? 0))
        } catch {
            guard records[path].loaded != nil else { return }
            core.apply(.restartFailed(FailureClass(step: error.step ?? .handshake, error: error), reason: error.message,
                                      random: .random(in: 0...1)))
        }
    }
}
