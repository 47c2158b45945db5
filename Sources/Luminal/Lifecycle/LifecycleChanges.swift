import LuminalSystem
import Synchronization

/// Counts the transitions of one file's lifecycle and wakes whoever waits for the next one: a
/// call waiting for the generation that replaces a crashed one (`Handler.call`).
final class LifecycleChanges: Sendable {
    // Counted before the waiters are taken: a waiter that checks the count under the lock either
    // sees the new count or is among those woken.
    private let transitions = Atomic<UInt64>(0)
    private let waiters = Mutex<[@Sendable () -> Void]>([])

    /// Transitions so far (read without a lock: a scrape reads every file's).
    var count: UInt64 { transitions.load(ordering: .acquiring) }

    /// A transition was applied: every waiter wakes.
    func changed() {
        transitions.wrappingAdd(1, ordering: .releasing)
        let waiting = waiters.withLock { waiters in
            defer { waiters = [] }
            return waiters
        }
        waiting.forEach { $0() }
    }

    /// Waits until a transition after the `seen`-th one, or `timeout`, or the task's
    /// cancellation; false only on timeout. A waiter may also wake early (another's cancellation):
    /// it reads the lifecycle again and waits again if need be.
    func wait(past seen: UInt64, timeout: Duration?) async -> Bool {
        await withTaskCancellationHandler {
            await awaitCallback(timeout: timeout) { (deliver: @escaping @Sendable (Bool) -> Void) in
                let now = waiters.withLock { waiters -> Bool in
                    if count != seen || Task.isCancelled { return true }
                    waiters.append { deliver(true) }
                    return false
                }
                if now { deliver(true) }
            } ?? false
        } onCancel: {
            let waiting = waiters.withLock { waiters in
                defer { waiters = [] }
                return waiters
            }
            waiting.forEach { $0() }
        }
    }
}
