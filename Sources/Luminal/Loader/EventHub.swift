import Synchronization

/// Fans loader events out to every subscriber's stream, and keeps the most recent ones
/// (`KeptEvents`, `log` events aside).
///
/// Every worker's output queue emits a `log` event per line, a hundred at once, so emitting
/// holds no lock while it yields: it takes the list of subscribers (a reference, under a lock held
/// for that, and for any other event to keep it) and yields to each outside it. A `log` event is
/// not kept (`luminal logs` keeps the lines), so with no subscriber it takes no lock. Keeping an
/// event and reading the list happen under the lock that also adds a subscriber and copies the
/// kept events for it (`subscribeAfterRecent`): each event is either among those copied or
/// yielded to the new stream, never both, never neither. Events emitted from one thread reach each
/// subscriber in the order emitted; events emitted at the same moment from two threads may reach
/// two subscribers in different orders.
final class EventHub: Sendable {
    private final class Subscriber: Sendable {
        let id: Int
        let continuation: AsyncStream<LoaderEvent>.Continuation
        /// Events dropped since this subscriber's buffer was last full, not yet marked.
        let dropped = Atomic<Int>(0)

        init(id: Int, continuation: AsyncStream<LoaderEvent>.Continuation) {
            self.id = id
            self.continuation = continuation
        }
    }

    /// The subscribers, and the events kept.
    private struct State {
        var next = 0
        var list: [Subscriber] = []
        var kept = KeptEvents()
    }

    private let state = Mutex(State())
    /// How many subscribers there are: an emit with none takes no lock.
    private let count = Atomic<Int>(0)
    private let droppedEver = Atomic<Int>(0)

    /// Events dropped for subscribers that fell behind, since the hub was made (one per subscriber missing it).
    var dropped: Int { droppedEver.load(ordering: .relaxed) }

    /// A new stream of every event from now on. If it falls 10,000 events behind, newer events
    /// are dropped and counted, and an `eventsDropped` event marks the gap once it catches up.
    func subscribe() -> AsyncStream<LoaderEvent> {
        subscribeAfterRecent().stream
    }

    /// The events kept (oldest first), and a new stream, as `subscribe()`, of every event after them.
    func subscribeAfterRecent() -> (recent: [LoaderEvent], stream: AsyncStream<LoaderEvent>) {
        let (stream, continuation) = AsyncStream<LoaderEvent>.makeStream(bufferingPolicy: .bufferingOldest(10_000))
        let recent = state.withLock { state in
            state.list.append(Subscriber(id: state.next, continuation: continuation))
            state.next += 1
            count.store(state.list.count, ordering: .releasing)
            return state.kept.events
        }
        // No `onTermination` that takes the lock: it runs inside the cancellation of the stream's
        // consumer, holding that task's status lock. A finished stream says so to the next
        // `yield`, and is dropped then.
        return (recent, stream)
    }

    /// Keeps `event` (unless it is a `log` event), delivers it to every subscriber, and forgets
    /// the subscribers whose streams ended.
    func emit(_ event: LoaderEvent) {
        let list: [Subscriber]
        if case .log = event {
            guard count.load(ordering: .acquiring) > 0 else { return }
            list = state.withLock { $0.list }
        } else {
            let measured = KeptEvents.measured(event)
            let (subscribers, dropped) = state.withLock { ($0.list, $0.kept.keep(measured)) }
            withExtendedLifetime(dropped) {} // freed here, outside the lock
            list = subscribers
        }
        var ended = Set<Int>()
        for subscriber in list {
            let missed = subscriber.dropped.exchange(0, ordering: .relaxed)
            if missed > 0, case .dropped = subscriber.continuation.yield(.eventsDropped(count: missed)) {
                subscriber.dropped.wrappingAdd(missed, ordering: .relaxed)
            }
            switch subscriber.continuation.yield(event) {
            case .dropped:
                subscriber.dropped.wrappingAdd(1, ordering: .relaxed)
                droppedEver.wrappingAdd(1, ordering: .relaxed)
            case .terminated:
                ended.insert(subscriber.id)
            default:
                break
            }
        }
        guard !ended.isEmpty else { return }
        state.withLock { state in
            state.list.removeAll { ended.contains($0.id) }
            count.store(state.list.count, ordering: .releasing)
        }
    }
}
