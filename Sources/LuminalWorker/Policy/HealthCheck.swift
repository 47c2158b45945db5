/// The heartbeat: a worker that has sent nothing for `interval` gets a ping; one that has not
/// answered it within `timeout` is killed (its whole tree) and handled by its restart policy as a
/// health-check timeout. A worker busy answering calls or sending events is not pinged. A worker
/// whose calls keep timing out while it answers pings is *unresponsive*; `unresponsive` bounds how
/// long it may stay so.
public struct HealthCheck: Sendable, Hashable {
    /// Time without a frame from the worker before it is pinged; nil turns heartbeats off.
    /// Default 30 s: a hung worker is found within 40 s of its last frame, and a thousand idle
    /// workers cost the supervisor about 33 pings a second, sent in a few batches.
    public var interval: Duration? = .seconds(30)
    /// How long a pong may take. Default 10 s: a worker whose reader thread cannot answer within
    /// it is stuck as a whole (SDK workers answer pings without waiting for their calls).
    public var timeout: Duration = .seconds(10)
    /// How long a worker may stay *unresponsive* (`CallResponsiveness`: 3 calls in a row timed out
    /// on it with no reply to any call between them, while it may still answer pings) before it is
    /// killed and restarted as a failure (`unresponsive`, with the restart backoff); nil: it is
    /// only reported (status, events, metrics). Default nil: a caller's timeout is not proof of a
    /// hang, and replacing a worker fails its other calls in flight.
    public var unresponsive: Duration?

    /// The defaults.
    public init() {}

    /// Pings after `interval` of silence, allowing `timeout` for each pong; a worker unresponsive
    /// for `unresponsive` is replaced (nil: never).
    public init(interval: Duration?, timeout: Duration, unresponsive: Duration? = nil) {
        self.interval = interval
        self.timeout = timeout
        self.unresponsive = unresponsive
    }
}
