import LuminalSystem
import LuminalWorker

/// Where a photon is in its life, as its handler reports it.
public enum PhotonState: Sendable, Hashable, CustomStringConvertible {
    /// Its worker said hello; not started yet.
    case ready
    /// Its start routine is running.
    case starting
    /// Started: it takes calls.
    case started
    /// Being unloaded: in-flight calls drain, finalizers run, the worker stops.
    case stopping
    /// Unloaded; the handler is no longer registered.
    case stopped
    /// Its worker exited without being asked to.
    case crashed(ExitStatus)
    /// Its worker broke the protocol and was killed.
    case faulted(reason: String)
    /// It failed too often in a row; retried slowly, and at once when its file changes.
    case quarantined(FailureClass)

    /// Short text, e.g. "crashed (signal 9 (SIGKILL))".
    public var description: String {
        switch self {
        case .crashed(let exit): "\(name) (\(exit))"
        case .faulted(let reason): "\(name) (\(reason))"
        case .quarantined(let failure): "\(name) (\(failure.rawValue))"
        default: name
        }
    }

    /// The state without its details: "started", "crashed", "quarantined", …
    package var name: String {
        switch self {
        case .ready: "ready"
        case .starting: "starting"
        case .started: "started"
        case .stopping: "stopping"
        case .stopped: "stopped"
        case .crashed: "crashed"
        case .faulted: "faulted"
        case .quarantined: "quarantined"
        }
    }

    /// True once the worker is gone for good (stopped, crashed or faulted).
    public var isFinal: Bool {
        switch self {
        case .stopped, .crashed, .faulted, .quarantined: true
        default: false
        }
    }
}
