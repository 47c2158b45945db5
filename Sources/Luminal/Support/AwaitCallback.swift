import Dispatch
import Synchronization

/// Awaits the first value handed to the callback that `register` installs, or nil once
/// `timeout` has passed. The callback may be called from any thread, any number of times.
func awaitCallback<Value: Sendable>(
    timeout: Duration?,
    _ register: (@escaping @Sendable (Value) -> Void) -> Void
) async -> Value? {
    await withCheckedContinuation { (continuation: CheckedContinuation<Value?, Never>) in
        let once = Once(continuation)
        if let timeout {
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout.dispatchInterval) { once.resume(nil) }
        }
        register { once.resume($0) }
    }
}

/// Resumes a continuation at most once.
private final class Once<Value: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<Value?, Never>?>

    init(_ continuation: CheckedContinuation<Value?, Never>) {
        self.continuation = Mutex(continuation)
    }

    func resume(_ value: Value?) {
        continuation.withLock { stored in
            stored?.resume(returning: value)
            stored = nil
        }
    }
}

extension Duration {
    /// This duration for Dispatch timers (nanosecond precision, never negative).
    var dispatchInterval: DispatchTimeInterval {
        let (seconds, attoseconds) = components
        let nanos = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        return .nanoseconds(Int(max(0, min(nanos, Int64(Int.max)))))
    }
}
