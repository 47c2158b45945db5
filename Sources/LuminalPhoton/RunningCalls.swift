import Synchronization

/// The tasks of the calls a worker is running, by request id, so that a `cancel` from the host
/// cancels the right one (PROTOCOL.md §3.3).
///
/// A call is registered before its task starts (`begin`), its task attached once it exists
/// (`attach`), and it leaves when its reply is written (`end`). A cancel that arrives before the
/// task is attached is kept and carried out by `attach`; one for an id not running is ignored.
final class RunningCalls: Sendable {
    private enum Entry {
        case starting(cancelled: Bool)
        case running(Task<Void, Never>)
    }

    private let entries = Mutex<[Int64: Entry]>([:])

    /// Call `id` is about to start.
    func begin(_ id: Int64) {
        entries.withLock { $0[id] = .starting(cancelled: false) }
    }

    /// Call `id` runs in `task`; cancels it at once if the host cancelled the call meanwhile.
    func attach(_ id: Int64, _ task: Task<Void, Never>) {
        let cancelNow = entries.withLock { entries -> Bool in
            guard case .starting(let cancelled)? = entries[id] else { return false }
            entries[id] = .running(task)
            return cancelled
        }
        if cancelNow { task.cancel() }
    }

    /// Call `id` has replied.
    func end(_ id: Int64) {
        _ = entries.withLock { $0.removeValue(forKey: id) }
    }

    /// The host cancelled call `id`: its task is cancelled (outside the lock, as cancellation
    /// handlers run on this thread). An unknown or finished id is ignored.
    func cancel(_ id: Int64) {
        let task = entries.withLock { entries -> Task<Void, Never>? in
            switch entries[id] {
            case .starting?:
                entries[id] = .starting(cancelled: true)
                return nil
            case .running(let task)?:
                return task
            case nil:
                return nil
            }
        }
        task?.cancel()
    }
}
