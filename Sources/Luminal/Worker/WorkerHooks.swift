import LuminalWire

/// How a worker tells its owner what happens to it. Every hook runs on the worker's queue.
struct WorkerHooks: Sendable {
    /// A line the worker wrote on stdout or stderr.
    var output: @Sendable (OutputStream, String) -> Void
    /// An event a photon emitted: photon, name, data.
    var event: @Sendable (String, String, JSONValue) -> Void
    /// The worker broke the protocol; it is being killed.
    var fault: @Sendable (ProtocolFault) -> Void
    /// The worker stopped answering heartbeats within `timeout`; it is being killed.
    var unresponsive: @Sendable (_ timeout: Duration) -> Void
    /// The worker process exited; `expected` when the supervisor was stopping it.
    var exited: @Sendable (_ status: ExitStatus, _ expected: Bool) -> Void
}
