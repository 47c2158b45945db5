/// An optional protocol feature a worker declares in its hello's `features` (PROTOCOL.md §3.3).
/// The host uses a feature only with a worker that declared it.
public enum WireFeature: String, Sendable, CaseIterable {
    /// The worker reads `cancel` messages: the host tells it of each call it gives up on.
    case cancel
    /// The worker reads a call's `deadline_ms`: the host says how long the caller will still wait.
    case deadline
}
