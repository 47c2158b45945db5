import LuminalSystem
import LuminalWire

/// What a look at a worker's heartbeat asks for, done once the state lock is released.
package enum HeartbeatAction {
    /// Nothing.
    case none
    /// Write the ping with this id.
    case ping(Int64)
    /// Report that the worker missed its heartbeat (no pong within the timeout).
    case giveUp(Duration)
}

extension Worker {
    /// Checks the worker is alive as `check` says (`HeartbeatRule`): a worker silent for
    /// `check.interval` gets a ping; one whose pong does not come within `check.timeout` is
    /// reported through the `missedHeartbeat` hook and its tree killed. One ping is in flight at most.
    /// `WorkerClock` does the timing: no timer and no task per worker or per ping.
    package func startHeartbeat(_ check: HealthCheck) {
        state.withLock { $0.responsiveness.replaceAfter = check.unresponsive }
        guard let rule = HeartbeatRule(check) else { return }
        let now = Uptime.now()
        state.withLock { state in
            state.timers.heartbeat = rule
            state.timers.lastHeard = max(state.timers.lastHeard, now)
            look(by: Uptime.after(rule.interval, from: now), &state)
        }
    }

    /// Stops the heartbeat (the worker is retiring, stopping or gone). A ping in flight may still
    /// be answered.
    func stopHeartbeat() {
        state.withLock { $0.timers.heartbeat = nil }
    }

    /// The heartbeat's part of a look at `now`: what to do, and when to look again. Under the
    /// state lock.
    func heartbeatStep(now: UInt64, _ state: inout State) -> (action: HeartbeatAction, next: UInt64?) {
        guard let rule = state.timers.heartbeat, case .success? = state.hello, !state.closedToCalls, !state.exited,
              state.fault == nil, !state.givenUp else { return (.none, nil) }
        switch rule.decide(now: now, lastHeard: state.timers.lastHeard, pingSentAt: state.timers.ping?.sentAt) {
        case .wait(let until):
            return (.none, until)
        case .ping:
            let id = state.nextID
            state.nextID += 1
            state.timers.ping = (id, now)
            return (.ping(id), Uptime.after(rule.timeout, from: now))
        case .timedOut:
            state.givenUp = true
            state.timers.heartbeat = nil
            if let ping = state.timers.ping {
                // A late pong is dropped, not taken for a reply nobody awaits.
                state.timers.ping = nil
                if !writer.withdraw(ping.id) { state.abandoned.insert(ping.id) }
            }
            return (.giveUp(rule.timeout), nil)
        }
    }

    /// The pong to the heartbeat's ping came: the next look is one interval on. Under the state lock.
    func heardPong(_ state: inout State) {
        state.timers.ping = nil
        if let rule = state.timers.heartbeat { look(by: Uptime.after(rule.interval, from: state.timers.lastHeard), &state) }
    }

    /// Does what `heartbeatStep` asked for.
    package func perform(_ action: HeartbeatAction) {
        switch action {
        case .none:
            break
        case .ping(let id):
            guard writer.send(frame: HostMessage.ping(id: id).frame, tag: id) == .closed else { return }
            // fd 3 is closed for good: this worker cannot be pinged any more.
            state.withLock { state in
                state.timers.ping = nil
                state.timers.heartbeat = nil
            }
        case .giveUp(let timeout):
            // The file's lifecycle has the tree killed.
            queue.async { [self] in hooks.missedHeartbeat(timeout) }
        }
    }
}
