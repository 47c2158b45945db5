import LuminalSystem
import LuminalWorker

extension Loader {
    /// The photon files found and not loaded, in path order (`FailedFile`).
    public var failedFiles: [FailedFile] {
        records.failures.sorted { $0.path < $1.path }
    }

    /// The photon files whose first load is under way, in path order (`LoadingFile`).
    public var loadingFiles: [LoadingFile] {
        records.firstLoads.sorted { $0.path < $1.path }
    }

    /// Records that the supervisor's own load of the photon file at `path` (a watched folder's,
    /// or `loadPhotons(in:)` with `suppressErrors`) failed with `error`; one that loaded since,
    /// or is being loaded, is not failed. A transient failure is tried again after the restart
    /// policy's backoff (unless its mode is `never`); after `quarantineAfter` in a row, every
    /// `quarantineRetry`.
    func recordFailedLoad(_ path: String, _ error: LoaderError, selection: PhotonSelection) {
        guard records[path].loaded == nil, !records[path].isLoading else { return }
        records[path].failure?.retry?.cancel()
        let record = FailedFile.after(error, previous: records[path].failure, path: path, selection: selection,
                                      policy: context.configuration.restart, random: .random(in: 0...1), now: .now)
        if let retryIn = record.retryIn {
            context.log.limited(.warning, "load.retry", subject: path, "photon file \(path) is tried again in \(retryIn)", file: path)
        }
        records[path].failure = scheduleRetry(of: record)
    }

    /// `failure` with the task that tries it again in its `retryIn` (none when it has none), once
    /// one of the `bringUps` is free: failures of one burst come due together.
    private func scheduleRetry(of failure: FailedFile) -> FailedFile {
        guard let retryIn = failure.retryIn else { return failure }
        let path = failure.path, failures = failure.failures, asked = context.hashes.mark
        return failure.scheduling(Task { [weak self] in
            guard (try? await Task.sleep(for: retryIn)) != nil, let place = await self?.takeBringUpPlace() else { return }
            defer { place.release() }
            await self?.retryAfterTransientFailure(path, failures: failures, asked: asked)
        })
    }

    /// The retry scheduled after failure number `failures` of the file at `path`, unless the
    /// record changed meanwhile (it loaded, was forgotten, was held, or failed again another
    /// way) or every photon was unloaded since the retry was `asked` for (a mark of
    /// `context.hashes`): a retry that waited for a place while `unloadAll` waited for the loads
    /// in progress is not one. Another load of the file under way (an operator's `luminal load`)
    /// puts it off by its delay: that load's failure is its caller's alone, and would otherwise
    /// leave the file failed with no retry.
    private func retryAfterTransientFailure(_ path: String, failures: Int, asked: Int) async {
        guard let failure = records[path].failure, let retryIn = failure.retryIn, failure.failures == failures,
              !context.hashes.isCancelled(since: asked) else { return }
        guard records[path].load == nil else {
            context.log.limited(.warning, "load.retry", subject: path,
                                "photon file \(path) is being loaded already as its retry comes due; tried again in \(retryIn) unless that load serves",
                                file: path)
            records[path].failure = scheduleRetry(of: failure)
            return
        }
        // This task is the retry now: forgetting the record once it loads must not cancel it.
        records[path].failure = failure.due
        _ = try? await loadAndStart(path, selection: failure.selection)
    }

    /// The version of the photon file at `path` that last failed, as the watcher read it: a
    /// digest, or for a file that cannot be used its error and its manifest's digest. Kept on
    /// the file's record, so it goes with the file; the same bytes are not tried again.
    package func failedVersion(of path: String) -> String? {
        records[path].failedVersion
    }

    /// Notes that the photon file at `path` on disk is again the version its serving generation
    /// was loaded from: a failed reload of another version is over.
    package func noteServingVersionOnDisk(of path: String) {
        guard let record = records[path].loaded else { return }
        records[path].failedVersion = nil
        record.pool.cores.forEach { $0.apply(.servingVersionOnDisk) }
    }

    /// Notes that `version` of the photon file at `path` failed (nil: the version that failed is
    /// no longer known), if the file is loaded or failed.
    package func noteFailedVersion(_ version: String?, of path: String) {
        guard records[path].loaded != nil || records[path].failure != nil else { return }
        records[path].failedVersion = version
    }

    /// The failed photon files, not held, that failed only as a photon of theirs was named like
    /// one of `names` (those of a file being unloaded), or, with `orSockets` (that file held
    /// sockets), as an address they would listen on was in use, in path order: their bytes did
    /// not fail on their own, so the version that failed is forgotten, to be tried again.
    func failuresClashing(with names: Set<String>, orSockets: Bool = false) -> [String] {
        let paths = records.failures.filter { failure in
            guard !failure.stopped else { return false }
            let named = failure.error.code == .duplicatePhotonName && failure.error.photon.map(names.contains) == true
            return named || (orSockets && failure.error.code == .socketUnavailable && failure.error.heldElsewhere)
        }.map(\.path).sorted()
        for path in paths { records[path].failedVersion = nil }
        return paths
    }

    /// Forgets the failed photon file at `path` (it loaded, was unloaded, or is gone).
    func forgetFailedFile(_ path: String) {
        records[path].failure?.retry?.cancel()
        records[path].failure = nil
        if records[path].loaded == nil { records[path].failedVersion = nil }
    }

    /// Forgets every failed photon file.
    func forgetFailedFiles() {
        for failure in records.failures { forgetFailedFile(failure.path) }
    }

    /// The failed photon file `nameOrPath` names by its path, if it is one and is not loaded.
    package func failedFile(at nameOrPath: String) -> FailedFile? {
        let path = Paths.absolute(nameOrPath)
        return records[path].loaded == nil ? records[path].failure : nil
    }

    /// Loads the photon file at `path` for the supervisor's own sake (a watched folder's file, a
    /// failed file's retry, an operator's start of a failed file) and starts its photons; from
    /// `version` when the watcher read it already. The one path by which the supervisor brings a
    /// file up: a failure is recorded as one more in a row (`failedFiles`), and thrown.
    ///
    /// A stop or an unload the operator asks of the file while it comes up (it was a failed file)
    /// holds: its load is abandoned if it can still be, and the file that loaded all the same is
    /// then stopped (held) or unloaded rather than started. `watched`: reconciling a watched
    /// folder asks for it (stopping the watcher abandons it). A load the supervisor gave up on
    /// (`FileLoad.givenUp`) is not recorded as a failure. A file being loaded already is refused.
    func loadAndStart(_ path: String, selection: PhotonSelection, version: FileVersion? = nil, watched: Bool = false) async throws(LoaderError) -> [Handler] {
        if records[path].failure?.stopped == true {
            // Held since whoever asked for this load looked (`retry(_:starting:)` lets it go first).
            throw heldError(path)
        }
        guard records[path].load == nil else {
            throw Self.beingLoadedError(path)
        }
        records[path].load = FileLoad(watched: watched)
        let handlers: [Handler]
        do {
            handlers = if let version {
                try await load(version.file, selection: selection, checksum: version.checksum)
            } else {
                try await loadPhoton(at: path, base: selection.base, otherClasses: selection.otherClasses)
            }
        } catch {
            // Unloaded meanwhile, the file is forgotten; given up by the supervisor, it did not fail.
            let ended = endBringUp(path)
            if ended?.request != .unload, ended?.givenUp != true { recordFailedLoad(path, error, selection: selection) }
            throw error
        }
        switch endBringUp(path)?.request {
        case .stop:
            _ = try? await stopPhoton(path)
            return handlers
        case .unload:
            _ = await unload([path], forceStop: false)
            return []
        case nil:
            do {
                for handler in handlers { try await handler.start() }
            } catch {
                recordFailedLoad(path, error, selection: selection)
                throw error
            }
            return handlers
        }
    }

    /// Ends the bring-up of the photon file at `path`, returning its load: what the operator
    /// asked of it meanwhile, and whether it was given up.
    private func endBringUp(_ path: String) -> FileLoad? {
        defer { records[path].load = nil }
        return records[path].load
    }

    /// The error of a bring-up refused because a load of the photon file at `path` is under way.
    static func beingLoadedError(_ path: String) -> LoaderError {
        LoaderError(.alreadyLoaded, "photon file \(path) is being loaded already; try again once that load is over", file: path)
    }

    /// Notes that the operator asked `request` of the failed photon file at `path`; if it is
    /// being brought up, that holds once its load is over, and its load is abandoned now if its
    /// worker is up.
    func ask(_ request: FailedFileRequest, of path: String) {
        guard records[path].load != nil else { return }
        records[path].load?.request = request
        abandonLoads(of: [path], because: request == .stop ? "it was stopped" : "it was unloaded")
    }

    /// Tries the failed photon file `failure` again, as the operator asked: loads it as it is now
    /// and starts its photons. One held (`stopped`) is refused unless `starting`, which releases it.
    func retry(_ failure: FailedFile, starting: Bool) async throws(LoaderError) -> [Handler] {
        if failure.stopped {
            guard starting else {
                throw heldError(failure.path)
            }
            // Refused, the start changes nothing: the stop asked of the load under way holds.
            guard records[failure.path].load == nil else {
                throw Self.beingLoadedError(failure.path)
            }
            records[failure.path].failure = failure.resumed
        }
        return try await loadAndStart(failure.path, selection: failure.selection)
    }

    /// Holds the failed photon file `failure`, as `stopPhoton` of its path asks: its retry is
    /// cancelled, and it is tried again only by `startPhoton`.
    func hold(_ failure: FailedFile) -> UnloadOutcome {
        records[failure.path].failure = failure.held
        ask(.stop, of: failure.path)
        let outcome = UnloadOutcome(file: failure.path, photons: [], ending: .notLoaded, exit: nil, finalizerErrors: [:])
        context.log(.info, "stopped \(failure.path), which had failed to load: it is tried again only when started", file: failure.path)
        context.events.emit(.stopped(outcome))
        return outcome
    }
}
