import LuminalSystem
import Synchronization

/// Counts the transitions of one file's lifecycle and wakes whoever waits for the next one: a
/// call waiting for the generation that replaces a crashed one (`Handler.call`).
final class LifecycleChanges: Sendable {
    private let state = Mutex<(count: UInt64, waiters: [@Sendable () -> Void])>((0, []))

    /// Transitions so far.
    var count: UInt64 { state.withLock { $0.count } }

    /// A transition was applied: every waiter wakes.
    func changed() {
        let waiters = state.withLock { state in
            state.count += 1
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0() }
    }

    /// Waits until a transition after the `seen`-th one, or `timeout`, or the task's
    /// cancellation; false only on timeout. A waiter may also wake early (another's cancellation):
    /// it reads the lifecycle again and waits again if need be.
    func wait(past seen: UInt64, timeout: Duration?) async -> Bool {
        await withTaskCancellationHandler {
            await awaitCallback(timeout: timeout) { (deliver: @escaping @Sendable (Bool) -> Void) in
                let now = state.withLock { state -> Bool in
                    if state.count != seen || Task.isCancelled { return true }
                    state.waiters.append { deliver(true) }
                    return false
                }
                if now { deliver(true) }
            } ?? false
        } onCancel: {
            let waiters = state.withLock { state in
                defer { state.waiters = [] }
                return state.waiters
            }
            waiters.forEach { $0() }
        }
    }
}
