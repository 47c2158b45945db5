import Synchronization

/// What happened to one loaded photon file, counted for the metrics, across its generations.
final class FileCounters: Sendable {
    /// Reloads that switched to a new generation (a restart, though carried out as a reload, is not one).
    let reloads = Atomic<UInt64>(0)
    /// Reloads that failed and were rolled back (failed restarts are not counted here).
    let rollbacks = Atomic<UInt64>(0)
    /// Generations killed for breaking the protocol.
    let protocolFaults = Atomic<UInt64>(0)
    /// Generations killed for missing a heartbeat's pong.
    let missedHeartbeats = Atomic<UInt64>(0)

    /// Adds one to `counter`.
    static func count(_ counter: borrowing Atomic<UInt64>) {
        counter.wrappingAdd(1, ordering: .relaxed)
    }
}
