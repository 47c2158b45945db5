import LuminalSystem

/// When and how fast a photon file's worker is restarted after it ends on its own.
///
/// The first crash is restarted at once (peers wait a fixed second; a crash that is a one-off
/// should cost no more than a spawn). Repeated crashes back off exponentially with jitter, so a
/// crash loop never becomes a fork bomb, and the count resets once a generation has stayed up for
/// `stableAfter`. After `quarantineAfter` consecutive failures the file is *quarantined*: visible
/// in its handlers' state, retried every `quarantineRetry`, and at once when its content changes
/// (when watched).
public struct RestartPolicy: Sendable, Hashable {
    /// Which endings are restarted.
    public enum Mode: String, Sendable, Hashable {
        /// Every ending the supervisor did not ask for, including `exit(0)`.
        case always
        /// Endings other than `exit(0)`: signals, non-zero exit codes, protocol faults.
        case onFailure = "on-failure"
        /// None: the photon stays crashed until it is reloaded or unloaded.
        case never
    }

    /// Which endings are restarted. Default `.onFailure` (as systemd's `Restart=on-failure`).
    public var mode: Mode = .onFailure
    /// The delay before the second consecutive restart; it doubles for each one after. Default
    /// 100 ms: long enough that a crash loop costs little CPU, short enough for a flaky start.
    public var initialDelay: Duration = .milliseconds(100)
    /// The largest delay between restarts. Default 30 s.
    public var maxDelay: Duration = .seconds(30)
    /// Each delay is spread by up to this fraction either way, so many photons crashing together
    /// do not restart in lockstep. Default 0.2.
    public var jitter: Double = 0.2
    /// Uptime after which a generation counts as stable and the failure count resets. Default 10 s.
    public var stableAfter: Duration = .seconds(10)
    /// Consecutive failures after which the file is quarantined. Default 8 (about 13 s of backoff).
    public var quarantineAfter: Int = 8
    /// How often a quarantined file is retried. Default 5 min.
    public var quarantineRetry: Duration = .seconds(300)
    /// The host cannot do without the file: once it cannot be kept running (quarantined, or an
    /// ending this policy does not restart), the loader's `LoaderConfiguration.essentialLost`
    /// is told. Default false; a manifest's `"essential": true` sets it.
    public var essential = false

    /// The defaults.
    public init() {}

    /// A policy with this mode and the default limits.
    public init(_ mode: Mode) {
        self.mode = mode
    }

    /// Whether an unrequested ending with `exit` (nil for a protocol fault) is restarted.
    public func restarts(after exit: ExitStatus?) -> Bool {
        switch mode {
        case .always: true
        case .onFailure: exit.map { !$0.isSuccess } ?? true
        case .never: false
        }
    }

    /// The delay before restart number `failures` (1 for the first consecutive failure), with
    /// `random` in 0...1 choosing the jitter; nil once the file is to be quarantined.
    public func delay(afterFailures failures: Int, random: Double) -> Duration? {
        guard failures < quarantineAfter else { return nil }
        guard failures > 1 else { return .zero }
        let doublings = min(failures - 2, 30)
        let base = min(maxDelay, initialDelay * (1 << doublings))
        let spread = 1 + jitter * (random * 2 - 1)
        return min(maxDelay, base * spread)
    }
}
