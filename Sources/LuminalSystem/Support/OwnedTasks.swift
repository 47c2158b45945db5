import Synchronization

/// Tasks the library starts on its own (tree kills after an unrequested ending), kept so that an
/// unload or a shutdown can wait for every one of them to finish.
package final class OwnedTasks: Sendable {
    private let state = Mutex<(next: Int, running: [Int: Task<Void, Never>], idle: [CheckedContinuation<Void, Never>])>((0, [:], []))

    /// Runs `body` in a new task, kept until it returns.
    package func run(_ body: @escaping @Sendable () async -> Void) {
        state.withLock { state in
            let key = state.next
            state.next += 1
            state.running[key] = Task { [weak self] in
                await body()
                self?.finished(key)
            }
        }
    }

    /// Waits until every task started so far (and any they started) has finished.
    package func waitUntilIdle() async {
        await withCheckedContinuation { continuation in
            let idle = state.withLock { state -> Bool in
                if state.running.isEmpty { return true }
                state.idle.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    private func finished(_ key: Int) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.running[key] = nil
            guard state.running.isEmpty else { return [] }
            defer { state.idle = [] }
            return state.idle
        }
        woken.forEach { $0.resume() }
    }

    package init() {}
}
