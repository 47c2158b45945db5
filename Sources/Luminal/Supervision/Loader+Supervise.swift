extension Loader {
    /// Restart bookkeeping of one photon file.
    struct Supervision {
        /// Consecutive failures, reset when a generation stays up for the policy's `stableAfter`.
        var failures = 0
        /// The scheduled restart, cancelled by an unload.
        var pending: Task<Void, Never>?
        /// A policy set through the API for this file.
        var policy: RestartPolicy?
        /// Stopped on purpose (`stopPhoton`): neither restarted nor reloaded until started again.
        var held = false
    }

    /// Sets the restart policy of the loaded photon file of the photon named `nameOrPath`, or at
    /// that path, overriding the loader's and its manifest's until it is unloaded.
    public func setRestartPolicy(_ policy: RestartPolicy, for nameOrPath: String) throws(LoaderError) {
        let path = try filePath(of: nameOrPath)
        supervision[path, default: Supervision()].policy = policy
    }

    /// The restart policy of `file`: one set through the API, else the loader's with the manifest's mode.
    func restartPolicy(for file: PhotonFile) -> RestartPolicy {
        if let policy = supervision[file.path]?.policy { return policy }
        var policy = context.configuration.restart
        policy.mode = file.restart ?? policy.mode
        return policy
    }

    /// Watches `record`'s current generation for an ending nobody asked for.
    func supervise(_ record: LoadedFile) {
        let path = record.file.path, generation = record.worker.generation
        record.owner.supervise { [weak self] exit, failure in
            guard let self else { return }
            Task { await self.generationEnded(path: path, generation: generation, exit: exit, failure: failure) }
        }
        if record.file.plain == nil {
            record.worker.startHeartbeat(record.file.health ?? context.configuration.health)
        }
    }

    private func generationEnded(path: String, generation: Int, exit: ExitStatus?, failure: FailureClass) {
        guard let record = files[path], record.worker.generation == generation, supervision[path]?.held != true else { return }
        let policy = restartPolicy(for: record.file)
        if let since = record.handlers.first?.startedSince, since >= policy.stableAfter {
            supervision[path]?.failures = 0
        }
        guard policy.restarts(after: exit) else {
            record.handlers.forEach { $0.record(failure: failure) }
            context.events.emit(.failed(file: path, failure: failure, failures: (supervision[path]?.failures ?? 0) + 1, restartIn: nil))
            return
        }
        scheduleRestart(path, after: failure, policy: policy)
    }

    /// Counts a failure and restarts the file at once, after a backoff, or after quarantine.
    private func scheduleRestart(_ path: String, after failure: FailureClass, policy: RestartPolicy) {
        var state = supervision[path] ?? Supervision()
        state.failures += 1
        let handlers = files[path]?.handlers ?? []
        let wait: Duration
        if let delay = policy.delay(afterFailures: state.failures, random: Double.random(in: 0...1)) {
            handlers.forEach { $0.record(failure: failure) }
            context.log(.warning, "photon file \(path) failed (\(failure.rawValue)); restarting\(delay == .zero ? " now" : " in \(delay)")", file: path)
            context.events.emit(.failed(file: path, failure: failure, failures: state.failures, restartIn: delay))
            wait = delay
        } else {
            handlers.forEach { $0.record(failure: failure, quarantined: true) }
            context.log(.error, "photon file \(path) failed \(state.failures) times in a row (\(failure.rawValue)); quarantined, retried every \(policy.quarantineRetry) or when it changes", file: path)
            context.events.emit(.quarantined(file: path, failure: failure, failures: state.failures, retryIn: policy.quarantineRetry))
            wait = policy.quarantineRetry
        }
        state.pending?.cancel()
        state.pending = Task { [weak self] in
            if wait > .zero { try? await Task.sleep(for: wait) }
            guard !Task.isCancelled else { return }
            await self?.restart(path)
        }
        supervision[path] = state
    }

    /// Brings up a new generation of a failed file; a failure to do so counts as another failure.
    private func restart(_ path: String) async {
        guard let record = files[path], record.handlers.allSatisfy({ $0.state.isFinal }) else { return }
        do {
            let handlers = try await reload([path])
            handlers.forEach { $0.countRestart() }
            let generation = handlers.first?.generation ?? 0
            context.log(.info, "restarted \(path): generation \(generation)", file: path)
            context.events.emit(.restarted(file: path, generation: generation, restarts: handlers.first?.restarts ?? 0))
        } catch {
            guard files[path] != nil else { return }
            scheduleRestart(path, after: FailureClass(step: error.step ?? .handshake, error: error), policy: restartPolicy(for: record.file))
        }
    }
}
