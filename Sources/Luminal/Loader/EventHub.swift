import Synchronization

/// Fans loader events out to every subscriber's stream.
final class EventHub: Sendable {
    private let subscribers = Mutex<(next: Int, streams: [Int: AsyncStream<LoaderEvent>.Continuation])>((0, [:]))

    /// A new stream of every event from now on; the newest 10,000 are kept if it falls behind.
    func subscribe() -> AsyncStream<LoaderEvent> {
        let (stream, continuation) = AsyncStream<LoaderEvent>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        let key = subscribers.withLock { state in
            defer { state.next += 1 }
            state.streams[state.next] = continuation
            return state.next
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.streams.removeValue(forKey: key) }
        }
        return stream
    }

    /// Delivers `event` to every subscriber.
    func emit(_ event: LoaderEvent) {
        for continuation in subscribers.withLock({ Array($0.streams.values) }) {
            continuation.yield(event)
        }
    }

    /// Ends every stream.
    func finish() {
        for continuation in subscribers.withLock({ Array($0.streams.values) }) {
            continuation.finish()
        }
    }
}
