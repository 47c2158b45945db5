/// What `WorkerClock` looks after for one worker; part of `Worker.State`.
struct WorkerTimers {
    /// The deadlines of its requests.
    var deadlines = RequestDeadlines()
    /// The instant the clock looks at this worker by; nil while nothing is due.
    var look: UInt64?
}

extension Worker {
    /// Has the clock look at this worker by `at`, unless it does by then already. Call under the
    /// state lock.
    func look(by at: UInt64, _ state: inout State) {
        if let look = state.timers.look, look <= at { return }
        state.timers.look = at
        WorkerClock.shared.look(at: self, by: at)
    }

    /// The clock's look at this worker at `now`: requests past their deadline fail with
    /// `timeout`, and the next look is asked for.
    /// Runs on the clock's queue; it touches nothing confined to the worker's queue.
    func tick(now: UInt64) {
        let expired = state.withLock { state in
            state.timers.look = nil
            let expired = expireRequests(now: now, &state)
            if let next = state.timers.deadlines.first?.deadline { look(by: next, &state) }
            return expired
        }
        for (request, timeout) in expired {
            request.resume(.failure(LoaderError(.timeout, "photon \(request.photon) (\(file.path)) did not answer \(request.label) within \(timeout)",
                                                photon: request.photon, file: file.path)))
        }
    }
}
