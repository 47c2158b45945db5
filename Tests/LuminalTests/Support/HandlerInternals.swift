@testable import Luminal
@testable import LuminalWorker

extension Handler {
    /// The worker of the generation serving this photon's file.
    var servingWorker: Worker {
        core.read { $0.serving!.connection }
    }

    /// Requests sent to that worker and not yet answered.
    var pendingRequests: Int {
        servingWorker.state.withLock { $0.pending.count }
    }
}
