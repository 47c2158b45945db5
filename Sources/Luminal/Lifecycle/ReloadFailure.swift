import LuminalWorker

/// The newest version of a loaded photon file that could not be brought up, while the
/// generation before it keeps serving: a reload rolled back, or a change that made the file
/// unusable (a typo in its manifest, say). Kept until a generation takes over.
public struct ReloadFailure: Sendable, Hashable {
    /// The step the last failed reload stopped at.
    public let step: ReloadStep
    /// Why, naming the file (and the manifest key, for a manifest refused).
    public let reason: String
    /// Failed reloads in a row.
    public let failures: Int
    /// When the first of them failed.
    package let since: ContinuousClock.Instant
}
