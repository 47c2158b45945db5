import Synchronization

/// The records waiting in a queue, bounded in number and in bytes, counted with atomics rather
/// than a lock: a hundred workers' output queues admit lines at once. A record is always admitted
/// when none waits; past either bound, records are refused (and counted).
package final class BoundedBacklog: Sendable {
    /// The most records that may wait.
    package let records: Int
    /// The most bytes that may wait (a lone record may be larger).
    package let bytes: Int
    private let waitingRecords = Atomic<Int>(0)
    private let waitingBytes = Atomic<Int>(0)
    private let refusedEver = Atomic<Int>(0)

    /// A backlog of at most `records` records and `bytes` bytes.
    package init(records: Int, bytes: Int) {
        self.records = records
        self.bytes = bytes
    }

    /// Admits a record of `size` bytes; false (and counted) if it would pass a bound.
    package func admit(size: Int) -> Bool {
        let waiting = waitingRecords.wrappingAdd(1, ordering: .relaxed).newValue
        let total = waitingBytes.wrappingAdd(size, ordering: .relaxed).newValue
        guard waiting <= records, waiting == 1 || total <= bytes else {
            waitingRecords.wrappingSubtract(1, ordering: .relaxed)
            waitingBytes.wrappingSubtract(size, ordering: .relaxed)
            refusedEver.wrappingAdd(1, ordering: .relaxed)
            return false
        }
        return true
    }

    /// An admitted record of `size` bytes is taken off the queue: how many records still wait.
    package func leave(size: Int) -> Int {
        waitingBytes.wrappingSubtract(size, ordering: .relaxed)
        return waitingRecords.wrappingSubtract(1, ordering: .relaxed).newValue
    }

    /// Records refused since the backlog was made.
    package var refused: Int { refusedEver.load(ordering: .relaxed) }
}
