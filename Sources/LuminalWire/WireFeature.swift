/// An optional protocol feature a worker declares in its hello's `features` (PROTOCOL.md §3.3).
/// The host uses a feature only with a worker that declared it.
public enum WireFeature: String, Sendable, CaseIterable {
    /// The worker reads `cancel` messages: the host tells it of each call it gives up on.
    case cancel
    /// The worker reads a call's `deadline_ms`: the host says how long the caller will still wait.
    case deadline
    /// The worker's photons call host functions (`host_call`), and the worker reads the host's
    /// replies to them (`host_result`, `host_error`).
    case hostCalls = "host_calls"
    /// The worker reads a call's `stream` and `credit` messages, and may answer such a call with
    /// `part`s before its final reply (PROTOCOL.md §3.5).
    case streams
}
