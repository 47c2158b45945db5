import LuminalWorker

extension Loader {
    /// Sets the restart policy of the loaded photon file of the photon named `nameOrPath`, or at
    /// that path, overriding the loader's and its manifest's until it is unloaded.
    public func setRestartPolicy(_ policy: RestartPolicy, for nameOrPath: String) throws(LoaderError) {
        let path = try filePath(of: nameOrPath)
        records[path].loaded?.core.apply(.policySet(policy))
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

    /// Brings up a new generation of a file whose serving generation ended on its own (the
    /// restart its lifecycle scheduled); a failure to do so counts as another failure.
    package func restart(_ path: String) async {
        guard let record = records[path].loaded else { return }
        for case .refuse in record.core.apply(.restartDue) { return }
        do {
            let handlers = try await reload([path], restart: true)
            let snapshot = handlers.first?.snapshot
            let generation = snapshot?.generation ?? 0
            context.log(.info, "restarted \(path): generation \(generation)", file: path)
            context.events.emit(.restarted(file: path, generation: generation, restarts: snapshot?.restarts ?? 0))
        } catch {
            guard let current = records[path].loaded else { return }
            current.core.apply(.restartFailed(FailureClass(step: error.step ?? .handshake, error: error), reason: error.message,
                                              random: .random(in: 0...1)))
        }
    }
}
