import Synchronization

/// The tasks of the calls a worker is running, by request id, so that a `cancel` from the host
/// cancels the right one (PROTOCOL.md §3.3).
///
/// A call's task registers itself as its first step (`begin`) and leaves as its last (`end`),
/// both from inside the task: the handle `Task.immediate` returns comes only once the method
/// first suspends, and a method that never does would otherwise be out of reach. The unsafe
/// reference is used only under the lock while the entry exists, that is while the task's body
/// has not ended, so the task is alive when it is cancelled. A cancel for an id not running
/// (unknown, or already answered) is ignored.
final class RunningCalls: Sendable {
    private let entries = Mutex<[Int64: Entry]>([:])

    private struct Entry: @unchecked Sendable {
        // @unchecked: an UnsafeCurrentTask, touched only under the lock while its task runs.
        let task: UnsafeCurrentTask
    }

    /// The current task runs call `id`; call first thing in the call's task.
    func begin(_ id: Int64) {
        withUnsafeCurrentTask { task in
            guard let task else { return }
            entries.withLock { $0[id] = Entry(task: task) }
        }
    }

    /// Call `id` has replied; call last thing in the call's task.
    func end(_ id: Int64) {
        _ = entries.withLock { $0.removeValue(forKey: id) }
    }

    /// The host cancelled call `id`: its task is cancelled, and its cancellation handlers run on
    /// this thread. An unknown or finished id is ignored.
    func cancel(_ id: Int64) {
        entries.withLock { $0[id]?.task.cancel() }
    }
}
