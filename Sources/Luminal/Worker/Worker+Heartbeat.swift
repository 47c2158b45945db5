import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import LuminalWire

extension Worker {
    /// Pings the worker every `check.interval`; if a pong does not come within `check.timeout`,
    /// reports it through the `unresponsive` hook and kills the tree. One ping is in flight at most.
    func startHeartbeat(_ check: HealthCheck) {
        guard let interval = check.interval else { return }
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + interval.dispatchInterval, repeating: interval.dispatchInterval)
        timer.setEventHandler { [weak self] in self?.beat(check.timeout) }
        heartbeat.withLock { $0?.source.cancel(); $0 = TimerSource(source: timer) }
        timer.activate()
    }

    /// Stops the heartbeat (the worker is retiring, stopping or gone).
    func stopHeartbeat() {
        heartbeat.withLock { $0?.source.cancel(); $0 = nil }
    }

    private func beat(_ timeout: Duration) {
        let due = state.withLock { state -> Bool in
            guard case .success? = state.hello, !state.closedToCalls, !state.exited, !state.pinging else { return false }
            state.pinging = true
            return true
        }
        guard due else { return }
        Task {
            do throws(LoaderError) {
                _ = try await send(.ping, timeout: timeout)
                state.withLock { $0.pinging = false }
            } catch where error.code == .timeout {
                let giveUp = state.withLock { state -> Bool in
                    guard !state.closedToCalls, !state.exited, state.fault == nil else { return false }
                    state.unresponsive = true
                    return true
                }
                guard giveUp else { return }
                stopHeartbeat()
                queue.async { [self] in hooks.unresponsive(timeout) }
            } catch {
                state.withLock { $0.pinging = false }
            }
        }
    }
}

/// A timer source (the heartbeat's, a request's deadline). Dispatch sources are thread-safe; the
/// worker only schedules, activates and cancels them.
struct TimerSource: @unchecked Sendable {
    let source: any DispatchSourceTimer
}
