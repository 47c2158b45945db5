import Dispatch
import Synchronization

/// Hands log records to the sink on a queue of its own, so a slow sink never stalls a worker's
/// output draining (and so never blocks a worker on a full stdout pipe).
///
/// At most `capacity` records wait; past that, records are dropped and counted, and once the
/// sink catches up it is told how many were lost.
final class LogQueue: Sendable {
    /// Records that may wait for a slow sink before newer ones are dropped.
    static let capacity = 10_000

    private let sink: LogSink
    private let queue = DispatchQueue(label: "luminal.log")
    private let state = Mutex<(waiting: Int, dropped: Int)>((0, 0))

    init(sink: @escaping LogSink) {
        self.sink = sink
    }

    /// Queues `record`, or drops it if the sink is `capacity` records behind.
    func submit(_ record: LogRecord) {
        let admitted = state.withLock { state -> Bool in
            guard state.waiting < Self.capacity else {
                state.dropped += 1
                return false
            }
            state.waiting += 1
            return true
        }
        guard admitted else { return }
        queue.async { [self] in
            sink(record)
            let dropped = state.withLock { state -> Int in
                state.waiting -= 1
                guard state.waiting == 0 else { return 0 }
                defer { state.dropped = 0 }
                return state.dropped
            }
            if dropped > 0 {
                sink(LogRecord(level: .warning, message: "the log fell behind: \(dropped) lines were dropped", file: nil, tag: nil))
            }
        }
    }

    /// Waits until every queued record reached the sink.
    func flush() {
        queue.sync {}
    }
}
