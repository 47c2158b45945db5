import Synchronization

/// Where each photon of the worker is in its life (PROTOCOL.md §3.2): calls are served between a
/// successful `start` and `stop`, and a photon is started at most once per process.
final class PhotonStates: Sendable {
    enum Phase: Sendable {
        case notStarted, starting, started, stopped
    }

    private let phases = Mutex<[String: Phase]>([:])

    /// The phase of `photon`.
    func phase(_ photon: String) -> Phase {
        phases.withLock { $0[photon] ?? .notStarted }
    }

    /// Claims the start of `photon`: false if it is starting, started or stopped already.
    func beginStart(_ photon: String) -> Bool {
        phases.withLock { phases in
            guard phases[photon] == nil else { return false }
            phases[photon] = .starting
            return true
        }
    }

    /// Records how the start of `photon` ended: started, or not started (a `stop` meanwhile wins).
    func endStart(_ photon: String, succeeded: Bool) {
        phases.withLock { phases in
            guard phases[photon] == .starting else { return }
            phases[photon] = succeeded ? .started : nil
        }
    }

    /// `photon` received `stop`: no more calls, and no new start.
    func stop(_ photon: String) {
        phases.withLock { $0[photon] = .stopped }
    }
}
