/// A photon file the supervisor found and could not load (a bad manifest, a worker that never
/// said hello, a spawn refused…): nothing of it runs. It stays listed, in `status`, `top` and the
/// metrics, until it loads, is unloaded, or is gone; it is tried again when it changes (while its
/// folder is watched) and on `reloadPhoton` or `startPhoton` of its path.
public struct FailedFile: Sendable {
    /// The photon file's path.
    public let path: String
    /// Why its last attempt failed, naming the file (and the manifest key, for a manifest refused).
    public let error: LoaderError
    /// Attempts that failed in a row.
    public let failures: Int
    /// When the first of them failed.
    public let since: ContinuousClock.Instant
    /// What the load asked for, so a retry chooses the same way.
    let selection: PhotonSelection

    /// The record after another attempt failed with `error`.
    func failedAgain(_ error: LoaderError) -> FailedFile {
        FailedFile(path: path, error: error, failures: failures + 1, since: since, selection: selection)
    }
}
