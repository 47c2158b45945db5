import Dispatch
import LuminalSystem
import Synchronization

/// Hands log records to the sink on a queue of its own, so a slow sink never stalls a worker's
/// output draining (and so never blocks a worker on a full stdout pipe).
///
/// At most `capacity` records, and `byteCapacity` bytes of their text, wait; past that, records
/// are dropped and counted, and once the sink catches up it is told how many were lost (within the
/// warning rate limit: a report it holds back is added to the next one).
package final class LogQueue: Sendable {
    /// Records that may wait for a slow sink before newer ones are dropped.
    package static let capacity = 10_000
    /// Bytes of message text that may wait for a slow sink before newer records are dropped
    /// (a worker's lines are up to 64 KiB each).
    package static let byteCapacity = 16 * 1024 * 1024

    private let sink: LogSink
    private let limiter: WarningLimiter
    private let queue = DispatchQueue(label: "luminal.log")
    private let backlog = BoundedBacklog(records: LogQueue.capacity, bytes: LogQueue.byteCapacity)
    /// Dropped and not yet reported.
    private let unreported = Atomic<Int>(0)

    package init(sink: @escaping LogSink, limiter: WarningLimiter) {
        self.sink = sink
        self.limiter = limiter
    }

    /// Queues `record`, or drops it if the sink is `capacity` records or `byteCapacity` bytes behind.
    package func submit(_ record: LogRecord) {
        let size = record.message.utf8.count
        guard backlog.admit(size: size) else {
            unreported.wrappingAdd(1, ordering: .relaxed)
            return
        }
        queue.async { [self] in
            sink(record)
            guard backlog.leave(size: size) == 0 else { return }
            let dropped = unreported.exchange(0, ordering: .relaxed)
            guard dropped > 0 else { return }
            guard limiter.admit("log.dropped") != nil else {
                // Reported with the next drop report that is written: no count is lost.
                unreported.wrappingAdd(dropped, ordering: .relaxed)
                return
            }
            sink(LogRecord(level: .warning, message: "the log fell behind: \(dropped) lines were dropped", file: nil, tag: nil))
        }
    }

    /// Records dropped since the queue was made.
    package var dropped: Int { backlog.refused }

    /// Waits until every queued record reached the sink.
    package func flush() {
        queue.sync {}
    }
}
