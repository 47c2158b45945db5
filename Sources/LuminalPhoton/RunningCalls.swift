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
///
/// A call whose method goes on running `lingerLimit` after its cancel is said on stderr (when the
/// next call begins or is cancelled; rate-limited: `RuntimeWarning`): its method does not check
/// for cancellation, and the host has given up on it.
final class RunningCalls: Sendable {
    /// How long a method may go on running after its call was cancelled before it is said.
    static let lingerLimit: Duration = .seconds(5)

    /// The running calls, and how many of them were cancelled (so that a call need not look
    /// through the others when none was).
    private let entries = Mutex<(running: [Int64: Entry], cancelled: Int)>(([:], 0))
    private let lingerWarning = RuntimeWarning()

    private struct Entry: @unchecked Sendable {
        // @unchecked: an UnsafeCurrentTask, touched only under the lock while its task runs.
        let task: UnsafeCurrentTask
        /// When the host cancelled the call, if it did.
        var cancelledAt: ContinuousClock.Instant?
    }

    /// The current task runs call `id`; call first thing in the call's task.
    func begin(_ id: Int64) {
        let anyCancelled = withUnsafeCurrentTask { task in
            guard let task else { return false }
            return entries.withLock { entries in
                entries.running[id] = Entry(task: task)
                return entries.cancelled > 0
            }
        }
        if anyCancelled { sayLingering() }
    }

    /// Call `id` has replied; call last thing in the call's task.
    func end(_ id: Int64) {
        entries.withLock { entries in
            if entries.running.removeValue(forKey: id)?.cancelledAt != nil { entries.cancelled -= 1 }
        }
    }

    /// The host cancelled call `id`: its task is cancelled, and its cancellation handlers run on
    /// this thread. An unknown or finished id is ignored.
    func cancel(_ id: Int64) {
        let now = ContinuousClock.now
        entries.withLock { entries in
            guard let entry = entries.running[id] else { return }
            entry.task.cancel()
            guard entry.cancelledAt == nil else { return }
            entries.running[id]?.cancelledAt = now
            entries.cancelled += 1
        }
        sayLingering()
    }

    /// Says (rate-limited) how many cancelled calls' methods have run on past `lingerLimit`.
    private func sayLingering() {
        let now = ContinuousClock.now
        let lingering = entries.withLock { entries in
            entries.cancelled == 0 ? [] : entries.running.compactMap { id, entry in entry.cancelledAt.flatMap { $0.duration(to: now) >= Self.lingerLimit ? (id, $0) : nil } }
        }
        guard let oldest = lingering.min(by: { $0.1 < $1.1 }) else { return }
        lingerWarning.write("\(lingering.count) cancelled calls' methods are still running more than \(Self.lingerLimit) after their cancel (the oldest, request \(oldest.0), for \(oldest.1.duration(to: now))): they do not check for cancellation")
    }
}
