/// What `WorkerClock` looks after for one worker; part of `Worker.State`.
struct WorkerTimers {
    /// The deadlines of its requests.
    var deadlines = RequestDeadlines()
    /// Its heartbeat, while it runs.
    var heartbeat: HeartbeatRule?
    /// The heartbeat's ping in flight: its id and when it was written.
    var ping: (id: Int64, sentAt: UInt64)?
    /// When fd 4 last delivered a frame, or the heartbeat started if that is later.
    var lastHeard: UInt64 = 0
    /// The instant the clock looks at this worker by; nil while nothing is due.
    var look: UInt64?
    /// When the handshake is over if no hello ended it first (for a plain executable: when it
    /// counts as ready); nil once it ended.
    var handshakeEnds: UInt64?
}

extension Worker {
    /// Has the clock look at this worker by `at`, unless it does by then already. Call under the
    /// state lock.
    func look(by at: UInt64, _ state: inout State) {
        if let look = state.timers.look, look <= at { return }
        state.timers.look = at
        WorkerClock.shared.look(at: self, by: at)
    }

    /// The clock's look at this worker at `now`: a handshake past its time ends, requests past
    /// their deadline fail with `timeout` (and count against its responsiveness), a worker
    /// unresponsive for its bound is given up, the heartbeat pings the worker or gives it up,
    /// and the next look is asked for. Runs on the clock's queue; it touches nothing confined to
    /// the worker's queue.
    func tick(now: UInt64) {
        let (handshakeOver, expired, change, giveUp, beat) = state.withLock { state in
            state.timers.look = nil
            let handshakeOver = state.timers.handshakeEnds.map { $0 <= now } ?? false
            if handshakeOver { state.timers.handshakeEnds = nil }
            let expired = expireRequests(now: now, &state)
            let (change, giveUp) = responsivenessStep(expired: expired.filter { $0.0.kind.isCall }.count, now: now, &state)
            let beat = heartbeatStep(now: now, &state)
            let giveUpAt = state.givenUp ? nil : state.responsiveness.giveUpAt
            if let next = [state.timers.handshakeEnds, state.timers.deadlines.first?.deadline, beat.next, giveUpAt].compactMap({ $0 }).min() {
                look(by: next, &state)
            }
            return (handshakeOver, expired, change, giveUp, beat.action)
        }
        if handshakeOver { queue.async { [self] in handshakeTimeUp() } }
        if !expired.isEmpty { sendCancels() }
        for (request, timeout) in expired {
            request.resume(.failure(LoaderError(.timeout, "photon \(request.photon) (\(file.path)) did not answer \(request.label) within \(timeout.toMilliseconds)",
                                                photon: request.photon, file: file.path)))
        }
        report(change)
        if let giveUp { queue.async { [self] in hooks.unresponsiveTooLong(giveUp) } }
        perform(beat)
    }

    /// The responsiveness rule's part of a look at `now`, after `expired` calls timed out: what
    /// changed, and the bound it was given up after if it is to be. Under the state lock.
    private func responsivenessStep(expired: Int, now: UInt64, _ state: inout State) -> (CallResponsiveness.Change, Duration?) {
        guard !state.givenUp, !state.closedToCalls else { return (.none, nil) }
        var change = CallResponsiveness.Change.none
        for _ in 0..<expired where change == .none { change = state.responsiveness.timedOut(now: now) }
        guard let giveUpAt = state.responsiveness.giveUpAt, giveUpAt <= now, let bound = state.responsiveness.replaceAfter else {
            return (change, nil)
        }
        state.givenUp = true
        state.timers.heartbeat = nil
        return (change, bound)
    }

    /// Tells the worker's owner that its responsiveness changed, on the worker's queue.
    package func report(_ change: CallResponsiveness.Change) {
        guard change != .none else { return }
        queue.async { [self] in hooks.responsiveness(change) }
    }
}
