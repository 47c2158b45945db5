extension Loader {
    /// The photon files found and not loaded, in path order (`FailedFile`).
    public var failedFiles: [FailedFile] {
        failed.values.sorted { $0.path < $1.path }
    }

    /// Records that the supervisor's own load of the photon file at `path` (a watched folder's,
    /// or `loadPhotons(in:)` with `suppressErrors`) failed with `error`; one that loaded since,
    /// or is being loaded, is not failed.
    func recordFailedLoad(_ path: String, _ error: LoaderError, selection: PhotonSelection) {
        guard files[path] == nil, loading[path] == nil else { return }
        failed[path] = failed[path]?.failedAgain(error)
            ?? FailedFile(path: path, error: error, failures: 1, since: .now, selection: selection)
    }

    /// Forgets the failed photon file at `path` (it loaded, was unloaded, or is gone).
    func forgetFailedFile(_ path: String) {
        failed[path] = nil
    }

    /// The failed photon file `nameOrPath` names by its path, if it is one and is not loaded.
    func failedFile(at nameOrPath: String) -> FailedFile? {
        let path = Paths.absolute(nameOrPath)
        return files[path] == nil ? failed[path] : nil
    }

    /// Tries the failed photon file `failure` again: loads it as it is now and starts its photons.
    /// A failure is recorded as one more in a row, and thrown.
    func retry(_ failure: FailedFile) async throws(LoaderError) -> [Handler] {
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
