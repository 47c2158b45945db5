import Luminal
import Synchronization

/// Time that only moves when told to: tests drive the watcher's loop with it.
package final class ManualWatchClock: WatchClock {
    private let time = Mutex<Duration>(.zero)
    package let wakesWatcher = false

    package init() {}

    package func now() -> Duration {
        time.withLock { $0 }
    }

    /// Moves time forward.
    package func advance(by duration: Duration) {
        time.withLock { $0 += duration }
    }
}
