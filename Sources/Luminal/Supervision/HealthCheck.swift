/// The heartbeat: a ping every `interval`; a worker that has not answered within `timeout` is
/// killed (its whole tree) and handled by its restart policy as a health-check timeout.
public struct HealthCheck: Sendable, Hashable {
    /// Time between pings; nil turns heartbeats off. Default 30 s: a hung worker is found within
    /// 40 s, and a thousand idle workers cost the supervisor about 33 pings a second.
    public var interval: Duration? = .seconds(30)
    /// How long a pong may take. Default 10 s: a worker whose reader thread cannot answer within
    /// it is stuck as a whole (SDK workers answer pings without waiting for their calls).
    public var timeout: Duration = .seconds(10)

    /// The defaults.
    public init() {}

    /// Pings every `interval`, allowing `timeout` for each pong.
    public init(interval: Duration?, timeout: Duration) {
        self.interval = interval
        self.timeout = timeout
    }
}
