import Luminal
import LuminalSystem
import LuminalWire
import Synchronization

/// The folder whose first load a supervisor awaits (`luminal run DIR`, from before its control
/// socket listens until that load is over). `status` lists it first, in state `loading` and never
/// healthy: before the folder is even read no photon file of it is listed, and an empty status
/// would say every photon is ready (`status --check` answered 0 before anything had loaded).
final class LoadingFolder: Sendable {
    private let state: Mutex<(path: String, since: ContinuousClock.Instant)?>

    /// The folder at `path` being loaded from now on.
    init(_ path: String) {
        state = Mutex((Paths.absolute(path), .now))
    }

    /// Its first load is over: it is no longer listed.
    func loaded() {
        state.withLock { $0 = nil }
    }

    /// The folder as `luminal status --json` shows it while it loads: no name, its path as `file`,
    /// `folder` true, state `loading`, not healthy, and for how long; nil once it loaded.
    var statusJSON: JSONValue? {
        state.withLock { $0 }.map { folder in
            ["name": nil, "file": .string(folder.path), "folder": true, "state": "loading", "healthy": false, "pid": nil,
             "generation": nil, "for": folder.since.duration(to: .now).seconds]
        }
    }
}
