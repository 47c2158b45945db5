import LuminalWorker

/// A photon file the supervisor found and could not load (a bad manifest, a worker that never
/// said hello, a spawn refused…): nothing of it runs. It stays listed, in `status`, `top` and the
/// metrics, until it loads, is unloaded, or is gone; it is tried again when it changes (while its
/// folder is watched) and on `reloadPhoton` or `startPhoton` of its path. `stopPhoton` of its path
/// holds it (`stopped`): it is then tried again only by `startPhoton`.
public struct FailedFile: Sendable {
    /// The photon file's path.
    public let path: String
    /// Why its last attempt failed, naming the file (and the manifest key, for a manifest refused).
    public let error: LoaderError
    /// Attempts that failed in a row.
    public let failures: Int
    /// When the first of them failed.
    public let since: ContinuousClock.Instant
    /// When it is tried again by itself, after a transient failure (`LoaderError.isTransient`).
    public let retryIn: Duration?
    /// The operator stopped it (`stopPhoton`): it is neither tried again by itself nor on a
    /// change, and `reloadPhoton` refuses it, until `startPhoton`.
    public let stopped: Bool
    /// What the load asked for, so a retry chooses the same way.
    let selection: PhotonSelection
    /// The retry scheduled after a transient failure; cancelled when the record goes.
    package let retry: Task<Void, Never>?

    /// The record as its scheduled retry begins: nothing more is scheduled.
    package var due: FailedFile {
        FailedFile(path: path, error: error, failures: failures, since: since, retryIn: nil, stopped: stopped, selection: selection, retry: nil)
    }

    /// The record held by the operator: no retry is scheduled, and its own is cancelled.
    var held: FailedFile {
        retry?.cancel()
        return FailedFile(path: path, error: error, failures: failures, since: since, retryIn: nil, stopped: true, selection: selection, retry: nil)
    }

    /// The record as the operator starts it again: no longer held.
    var resumed: FailedFile {
        FailedFile(path: path, error: error, failures: failures, since: since, retryIn: retryIn, stopped: false, selection: selection, retry: retry)
    }

    /// The record after an attempt to load the photon file at `path` failed with `error`, from
    /// `previous` (nil: its first failure): one more failure in a row. A transient failure
    /// (`LoaderError.isTransient`) is to be tried again after `policy`'s backoff, every
    /// `quarantineRetry` once it would quarantine, unless the policy never restarts or the
    /// operator stopped the file. No retry is attached yet (`scheduling(_:)`).
    static func after(_ error: LoaderError, previous: FailedFile?, path: String, selection: PhotonSelection,
                      policy: RestartPolicy, random: Double, now: ContinuousClock.Instant) -> FailedFile {
        let failures = (previous?.failures ?? 0) + 1
        let stopped = previous?.stopped ?? false
        let retryIn = error.isTransient && policy.mode != .never && !stopped
            ? policy.delay(afterFailures: failures, random: random) ?? policy.quarantineRetry : nil
        return FailedFile(path: path, error: error, failures: failures, since: previous?.since ?? now, retryIn: retryIn,
                          stopped: stopped, selection: previous?.selection ?? selection, retry: nil)
    }

    /// The record with `retry`, the task that tries it again in `retryIn`.
    func scheduling(_ retry: Task<Void, Never>) -> FailedFile {
        FailedFile(path: path, error: error, failures: failures, since: since, retryIn: retryIn, stopped: stopped, selection: selection, retry: retry)
    }
}
