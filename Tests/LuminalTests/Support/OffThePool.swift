import LuminalSystem

/// Runs `body`, which blocks on a socket, on a thread of its own instead of the cooperative pool.
/// An in-process server (`ControlServer`, `MetricsServer`) answers through tasks on that pool: a
/// test blocking one of its few threads while other suites hold the rest would wait for itself.
func offThePool<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        startThread { continuation.resume(with: Result { try body() }) }
    }
}
