extension FrameWriter {
    /// Waits until fewer than `mark` bytes are queued: true then, false if the writer closed
    /// first or the task is cancelled. A producer that holds its data already (a backlog) uses
    /// it to go at the reader's pace.
    package func waitUntilQueued(below mark: Int) async -> Bool {
        let id = state.withLock { $0.roomWaiters.newID() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: RoomWaiters.Waiter) in
                let ready = state.withLock { state -> Bool? in
                    if state.fd < 0 || state.closeWhenFlushed { return false }
                    if state.queuedBytes < mark { return true }
                    return state.roomWaiters.add(id, mark: mark, continuation) ? nil : false
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            state.withLock { $0.roomWaiters.cancel(id) }?.resume(returning: false)
        }
    }
}

/// The tasks waiting for a writer's queue to drop below their marks.
struct RoomWaiters {
    /// A waiting task.
    typealias Waiter = CheckedContinuation<Bool, Never>

    private var waiting: [Int: (mark: Int, waiter: Waiter)] = [:]
    /// Waits cancelled before they were added.
    private var cancelled: Set<Int> = []
    private var nextID = 0

    /// An id for a wait about to be added.
    mutating func newID() -> Int {
        nextID += 1
        return nextID
    }

    /// Adds wait `id`; false if it was cancelled already.
    mutating func add(_ id: Int, mark: Int, _ waiter: Waiter) -> Bool {
        if cancelled.remove(id) != nil { return false }
        waiting[id] = (mark, waiter)
        return true
    }

    /// Removes wait `id`, returning it to be resumed, or remembers that it was cancelled.
    mutating func cancel(_ id: Int) -> Waiter? {
        guard let entry = waiting.removeValue(forKey: id) else {
            cancelled.insert(id)
            return nil
        }
        return entry.waiter
    }

    /// Removes and returns the waits whose mark is above `queued`.
    mutating func takeReady(queued: Int) -> [Waiter] {
        let ready = waiting.filter { $0.value.mark > queued }
        ready.keys.forEach { waiting[$0] = nil }
        return ready.values.map(\.waiter)
    }

    /// Removes and returns every wait.
    mutating func takeAll() -> [Waiter] {
        defer { waiting = [:] }
        return waiting.values.map(\.waiter)
    }
}
