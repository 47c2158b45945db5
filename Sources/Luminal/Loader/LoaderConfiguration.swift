import LuminalWire
import LuminalWorker

/// Timeouts and limits of a `Loader`. A package manifest may override the timeouts per file.
public struct LoaderConfiguration: Sendable {
    /// How long a new worker has to send a valid hello. Default 10 s: generous for a cold
    /// interpreter on a loaded 2-core machine, short enough that a hung worker is noticed.
    public var handshakeTimeout: Duration = .seconds(10)
    /// How long a photon's start routine may take. Default 10 s.
    public var startTimeout: Duration = .seconds(10)
    /// How long in-flight calls get to finish once a worker is being unloaded. Default 10 s.
    public var drainTimeout: Duration = .seconds(10)
    /// How long finalizers plus shutdown may take before the tree gets SIGTERM. Default 5 s.
    public var stopTimeout: Duration = .seconds(5)
    /// How long after SIGTERM before SIGKILL. Default 5 s.
    public var killTimeout: Duration = .seconds(5)
    /// Time a call may take before it fails with `timeout`, when its caller gives none; a
    /// manifest's `timeouts.call` overrides it per file. nil: no timeout, a call waits as long as
    /// the worker lives. Default 60 s: a caller of a method that hangs is answered.
    public var callTimeout: Duration? = .seconds(60)
    /// How long the metrics serve one reading of what the photon files' process trees use
    /// (processes, memory, CPU time, descriptors) before reading `/proc` again, which costs a
    /// millisecond or more for every hundred processes. A load, reload, restart or unload makes
    /// the next scrape read again at once. Default 10 s.
    public var processFiguresPeriod: Duration = .seconds(10)
    /// What happens when a worker ends on its own; a package manifest's `restart` sets the mode
    /// per file. Default: on-failure, with the limits documented on `RestartPolicy`.
    public var restart = RestartPolicy()
    /// The heartbeat of every worker; a manifest's `health` overrides it per file. Default: a
    /// ping every 30 s, 10 s to answer.
    public var health = HealthCheck()
    /// A file where this supervisor records itself; at start, the processes a previous run
    /// recorded there left behind (it was killed outright) are killed. nil: none. Default nil;
    /// `luminal run` uses one per folder in the runtime directory.
    public var stateFile: String?
    /// Where the log also goes, as files rotated by size (nil: nowhere but the log sink). Needs `logging`.
    public var logFiles: LogFileOptions?
    /// The largest frame accepted from or sent to a worker, in bytes. Default 16 MiB.
    public var frameCap: Int = Frame.defaultCap
    /// The most bytes of calls that may wait to be written to one worker's fd 3 (a worker that
    /// does not read its requests makes them wait). A call that would pass it fails at once with
    /// `overloaded`; the worker and its other calls carry on. A call that has not started being
    /// written when it is abandoned (timeout, cancelled caller) leaves the queue. One frame is
    /// always taken when nothing waits. Default 32 MiB.
    public var queuedCallBytesLimit = 32 * 1024 * 1024
    /// The most calls one worker may have in flight (sent and not yet answered); one more fails
    /// at once with `overloaded`. Default 65,536.
    public var callsInFlightLimit = 65_536
    /// Limits of every photon file's workers; a manifest's `limits` override them key by key.
    /// Default: none.
    public var limits = ResourceLimits()
    /// Who every photon file's workers run as; a manifest's `user`, `group`, `umask` and
    /// `no_new_privileges` override it. Default: the supervisor's own identity.
    public var identity = PhotonIdentity()
    /// When a worker is replaced through the atomic reload although it is healthy; a manifest's
    /// `recycle` overrides it. Default: never.
    public var recycle = RecyclePolicy()
    /// Whether each worker generation gets a cgroup of its own where the host gives one
    /// (`.automatic`, the default), or is always held by the process-tree rules.
    public var containment = ContainmentMode.automatic
    /// How many workers each photon file runs, and how many a reload replaces at a time; a
    /// manifest's `instances` overrides it per file. Default: one.
    public var instances = PoolSize()

    /// Told, with the file's path and why, when a photon file whose restart policy is `essential`
    /// (a manifest's `"essential": true`) cannot be kept running: it is quarantined, or it ended
    /// in a way its policy does not restart. `luminal run` then stops everything and exits 6.
    /// Called on whatever thread saw it, each time it happens; nil (the default): nothing is told.
    public var essentialLost: (@Sendable (_ file: String, _ reason: String) -> Void)?

    /// Whether a photon may call another photon through the host (the built-in host function
    /// `call`, PROTOCOL.md §3.4): asked with the caller and the name of the photon it calls, after
    /// the caller's manifest's `may_call`, which narrows it first. Called on any thread, for
    /// each such call; nil (the default): any loaded photon may be called.
    public var mayCall: (@Sendable (_ caller: HostCaller, _ photon: String) -> Bool)?

    /// The defaults.
    public init() {}
}

extension LoaderConfiguration {
    /// What a worker takes from this configuration.
    var workerSettings: WorkerSettings {
        WorkerSettings(handshakeTimeout: handshakeTimeout, frameCap: frameCap, queuedCallBytesLimit: queuedCallBytesLimit,
                       callsInFlightLimit: callsInFlightLimit, limits: limits, identity: identity, containment: containment)
    }
}
