/// The watcher's time: real in production, driven by hand in tests.
package protocol WatchClock: Sendable {
    /// Time since the clock was made.
    func now() -> Duration
    /// Whether the watcher should set real timers for its debounce deadlines (false when a test
    /// moves time and drives the iterations itself).
    var wakesWatcher: Bool { get }
}

/// Real time.
struct ContinuousWatchClock: WatchClock {
    private let start = ContinuousClock.now
    let wakesWatcher = true

    func now() -> Duration {
        start.duration(to: .now)
    }
}
