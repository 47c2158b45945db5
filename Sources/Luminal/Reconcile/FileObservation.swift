import LuminalWorker

/// What the watcher read at a photon file's path (`PhotonWatcher.observe`), for the loader to
/// reconcile the file's record with (`Loader.reconcile`).
package enum FileObservation: Sendable {
    /// Nothing is there.
    case gone
    /// A usable photon file that the folder's scan passes over (another path to a photon file
    /// loaded once).
    case passedOver
    /// A photon file that cannot be used as it is (a bad manifest, too large to hash…): the
    /// error naming it and the cause, and `version`, what it is now (the cause and its manifest's
    /// digest), so that any change gets it looked at again; `reported` when the folder's scan
    /// reported it already.
    case unusable(LoaderError, version: String, reported: Bool)
    /// A usable photon file, resolved and hashed.
    case readable(FileVersion)

    /// What was seen, as far as deciding goes (`FileCondition.steps`).
    package enum Outline: Equatable, Sendable {
        case gone
        case passedOver
        case unusable(version: String, reported: Bool)
        case readable(checksum: String)
    }

    /// What was seen, as far as deciding goes.
    var outline: Outline {
        switch self {
        case .gone: .gone
        case .passedOver: .passedOver
        case .unusable(_, let version, let reported): .unusable(version: version, reported: reported)
        case .readable(let version): .readable(checksum: version.checksum)
        }
    }
}
