/// The heartbeat: a worker that has sent nothing for `interval` gets a ping; one that has not
/// answered it within `timeout` is killed (its whole tree) and handled by its restart policy as a
/// health-check timeout. A worker busy answering calls or sending events is not pinged.
public struct HealthCheck: Sendable, Hashable {
    /// Time without a frame from the worker before it is pinged; nil turns heartbeats off.
    /// Default 30 s: a hung worker is found within 40 s of its last frame, and a thousand idle
    /// workers cost the supervisor about 33 pings a second, sent in a few batches.
    public var interval: Duration? = .seconds(30)
    /// How long a pong may take. Default 10 s: a worker whose reader thread cannot answer within
    /// it is stuck as a whole (SDK workers answer pings without waiting for their calls).
    public var timeout: Duration = .seconds(10)

    /// The defaults.
    public init() {}

    /// Pings after `interval` of silence, allowing `timeout` for each pong.
    public init(interval: Duration?, timeout: Duration) {
        self.interval = interval
        self.timeout = timeout
    }
}
