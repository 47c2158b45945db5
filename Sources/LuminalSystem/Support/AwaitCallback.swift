import Dispatch
import Synchronization

/// Awaits the first value handed to the callback that `register` installs, or nil once
/// `timeout` has passed. The callback may be called from any thread, any number of times.
///
/// The timeout is a timer source, cancelled by the first value: a wait that was answered leaves
/// nothing on Dispatch's timer heap (an `asyncAfter` would stay there until it fired).
package func awaitCallback<Value: Sendable>(
    timeout: Duration?,
    _ register: (@escaping @Sendable (Value) -> Void) -> Void
) async -> Value? {
    await withCheckedContinuation { (continuation: CheckedContinuation<Value?, Never>) in
        let once = Once(continuation)
        if let timeout {
            let timer = DispatchSource.makeTimerSource(queue: .global())
            timer.schedule(deadline: .now() + timeout.dispatchInterval)
            timer.setEventHandler { once.resume(nil) }
            once.cancels(timer)
            timer.activate()
        }
        register { once.resume($0) }
    }
}

/// Resumes a continuation at most once, and then cancels the timeout.
private final class Once<Value: Sendable>: Sendable {
    private let state: Mutex<(continuation: CheckedContinuation<Value?, Never>?, timer: TimerSource?)>

    init(_ continuation: CheckedContinuation<Value?, Never>) {
        state = Mutex((continuation, nil))
    }

    /// Makes the first `resume` cancel `timer`. Call before the timer is activated.
    func cancels(_ timer: any DispatchSourceTimer) {
        state.withLock { $0.timer = TimerSource(source: timer) }
    }

    func resume(_ value: Value?) {
        let timer = state.withLock { state -> TimerSource? in
            state.continuation?.resume(returning: value)
            state.continuation = nil
            defer { state.timer = nil }
            return state.timer
        }
        // The timer's handler holds this object: cancelling releases it.
        timer?.source.cancel()
    }
}

extension Duration {
    /// This duration for Dispatch timers (nanosecond precision, never negative).
    package var dispatchInterval: DispatchTimeInterval {
        let (seconds, attoseconds) = components
        let nanos = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        return .nanoseconds(Int(max(0, min(nanos, Int64(Int.max)))))
    }
}

/// A Dispatch timer source, to keep in a lock. Dispatch sources are thread-safe; only scheduling,
/// activating and cancelling are done with it.
struct TimerSource: @unchecked Sendable {
    let source: any DispatchSourceTimer
}
