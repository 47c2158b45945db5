import LuminalSystem
import LuminalWorker

extension Loader {
    /// The photon files found and not loaded, in path order (`FailedFile`).
    public var failedFiles: [FailedFile] {
        failed.values.sorted { $0.path < $1.path }
    }

    /// Records that the supervisor's own load of the photon file at `path` (a watched folder's,
    /// or `loadPhotons(in:)` with `suppressErrors`) failed with `error`; one that loaded since,
    /// or is being loaded, is not failed. A transient failure is tried again after the restart
    /// policy's backoff (unless its mode is `never`); after `quarantineAfter` in a row, every
    /// `quarantineRetry`.
    func recordFailedLoad(_ path: String, _ error: LoaderError, selection: PhotonSelection) {
        guard files[path] == nil, loading[path] == nil else { return }
        failed[path]?.retry?.cancel()
        let failures = (failed[path]?.failures ?? 0) + 1
        let policy = context.configuration.restart
        let retryIn = error.isTransient && policy.mode != .never
            ? policy.delay(afterFailures: failures, random: .random(in: 0...1)) ?? policy.quarantineRetry : nil
        let retry = retryIn.map { delay in
            Task { [weak self] in
                guard (try? await Task.sleep(for: delay)) != nil else { return }
                await self?.retryAfterTransientFailure(path, failures: failures)
            }
        }
        failed[path] = failed[path]?.failedAgain(error, retryIn: retryIn, retry: retry)
            ?? FailedFile(path: path, error: error, failures: 1, since: .now, retryIn: retryIn, selection: selection, retry: retry)
        if let retryIn {
            context.log.limited(.warning, "load.retry", subject: path, "photon file \(path) is tried again in \(retryIn)", file: path)
        }
    }

    /// The retry scheduled after failure number `failures` of the file at `path`, unless the
    /// record changed meanwhile (it loaded, was forgotten, or failed again another way).
    private func retryAfterTransientFailure(_ path: String, failures: Int) async {
        guard let failure = failed[path]?.due, failure.failures == failures else { return }
        // This task is the retry now: forgetting the record once it loads must not cancel it.
        failed[path] = failure
        _ = try? await retry(failure)
    }

    /// Forgets the failed photon file at `path` (it loaded, was unloaded, or is gone).
    func forgetFailedFile(_ path: String) {
        failed.removeValue(forKey: path)?.retry?.cancel()
    }

    /// Forgets every failed photon file.
    func forgetFailedFiles() {
        for path in Array(failed.keys) { forgetFailedFile(path) }
    }

    /// The failed photon file `nameOrPath` names by its path, if it is one and is not loaded.
    package func failedFile(at nameOrPath: String) -> FailedFile? {
        let path = Paths.absolute(nameOrPath)
        return files[path] == nil ? failed[path] : nil
    }

    /// Tries the failed photon file `failure` again: loads it as it is now and starts its photons.
    /// A failure is recorded as one more in a row, and thrown.
    package func retry(_ failure: FailedFile) async throws(LoaderError) -> [Handler] {
        do {
            let handlers = try await loadPhoton(at: failure.path, base: failure.selection.base, otherClasses: failure.selection.otherClasses)
            for handler in handlers { try await handler.start() }
            return handlers
        } catch {
            recordFailedLoad(failure.path, error, selection: failure.selection)
            throw error
        }
    }
}
