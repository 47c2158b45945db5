import LuminalWire

/// How a worker tells its owner what happens to it. Every hook runs on the worker's queue.
struct WorkerHooks: Sendable {
    /// A line the worker wrote on stdout or stderr.
    var output: @Sendable (OutputStream, String) -> Void
    /// An event a photon emitted: photon, name, data.
    var event: @Sendable (String, String, JSONValue) -> Void
    /// The worker broke the protocol.
    var fault: @Sendable (ProtocolFault) -> Void
    /// The worker stopped answering heartbeats within `timeout`.
    var missedHeartbeat: @Sendable (_ timeout: Duration) -> Void
    /// The worker became unresponsive (its calls keep timing out) or answered a call again.
    var responsiveness: @Sendable (CallResponsiveness.Change) -> Void
    /// The worker stayed unresponsive for `bound` (`HealthCheck.unresponsive`) and is given up.
    var unresponsiveTooLong: @Sendable (_ bound: Duration) -> Void
    /// The worker process exited (whether it was asked to is its lifecycle's to judge), killed
    /// by one of its limits when `overLimit` says which.
    var exited: @Sendable (_ status: ExitStatus, _ overLimit: FailureClass?) -> Void
}
