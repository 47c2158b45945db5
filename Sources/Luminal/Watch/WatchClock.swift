import Synchronization

/// The watcher's time: real in production, driven by hand in tests.
protocol WatchClock: Sendable {
    /// Time since the clock was made.
    func now() -> Duration
}

/// Real time.
struct ContinuousWatchClock: WatchClock {
    private let start = ContinuousClock.now

    func now() -> Duration {
        start.duration(to: .now)
    }
}

/// Time that only moves when told to (the seed's `LoopTrace` idea: tests drive the loop).
final class ManualWatchClock: WatchClock {
    private let time = Mutex<Duration>(.zero)

    func now() -> Duration {
        time.withLock { $0 }
    }

    /// Moves time forward.
    func advance(by duration: Duration) {
        time.withLock { $0 += duration }
    }
}
