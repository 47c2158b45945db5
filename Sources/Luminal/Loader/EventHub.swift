import Synchronization

/// Fans loader events out to every subscriber's stream.
final class EventHub: Sendable {
    private struct Subscriber {
        let continuation: AsyncStream<LoaderEvent>.Continuation
        /// Events dropped since this subscriber's buffer was last full.
        var dropped = 0
    }

    private let subscribers = Mutex<(next: Int, streams: [Int: Subscriber], dropped: Int)>((0, [:], 0))

    /// Events dropped for subscribers that fell behind, since the hub was made (one per subscriber missing it).
    var dropped: Int { subscribers.withLock { $0.dropped } }

    /// A new stream of every event from now on. If it falls 10,000 events behind, newer events
    /// are dropped and counted, and an `eventsDropped` event marks the gap once it catches up.
    func subscribe() -> AsyncStream<LoaderEvent> {
        let (stream, continuation) = AsyncStream<LoaderEvent>.makeStream(bufferingPolicy: .bufferingOldest(10_000))
        subscribers.withLock { state in
            state.streams[state.next] = Subscriber(continuation: continuation)
            state.next += 1
        }
        // No `onTermination` that takes the lock: it runs inside the cancellation of the stream's
        // consumer, holding that task's status lock, while `emit` may hold this lock and be
        // resuming that very task, which needs its status lock: a deadlock. A finished stream
        // says so to the next `yield`, and is dropped then.
        return stream
    }

    /// Delivers `event` to every subscriber, and forgets the subscribers whose streams ended.
    func emit(_ event: LoaderEvent) {
        subscribers.withLock { state in
            for key in state.streams.keys {
                let subscriber = state.streams[key]!
                if subscriber.dropped > 0, case .enqueued = subscriber.continuation.yield(.eventsDropped(count: subscriber.dropped)) {
                    state.streams[key]!.dropped = 0
                }
                switch subscriber.continuation.yield(event) {
                case .dropped:
                    state.streams[key]!.dropped += 1
                    state.dropped += 1
                case .terminated:
                    state.streams[key] = nil
                default:
                    break
                }
            }
        }
    }
}
