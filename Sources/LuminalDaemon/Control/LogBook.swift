#if canImport(Glibc)
import Glibc
#endif
import Luminal
import Synchronization

/// The most recent log records of a supervisor, kept in memory for `luminal logs`, and a feed
/// of new ones for `luminal logs -f`.
///
/// Bounded: past `capacity` records, or `byteCapacity` bytes of their text, the oldest go. A
/// follower that falls `capacity` records behind loses the newer ones rather than holding memory.
public final class LogBook: Sendable {
    /// One kept record.
    public struct Entry: Sendable {
        /// Counts up from 1 for the life of the book.
        public let sequence: Int
        /// Wall-clock time it was recorded, in seconds since the Unix epoch.
        public let time: Double
        /// The record.
        public let record: LogRecord
    }

    /// How many records are kept.
    public let capacity: Int
    /// How many bytes of message text are kept (the newest record always is).
    public let byteCapacity: Int
    private let state: Mutex<State>

    private struct State {
        /// `entries[first...]` are kept, oldest first; those before `first` are dropped (nil).
        var entries: [Entry?] = []
        var first = 0
        var bytes = 0
        var sequence = 0
        var followers: [Int: AsyncStream<Entry>.Continuation] = [:]
        var followerIDs = 0

        /// How many entries are kept.
        var count: Int { entries.count - first }

        /// Drops the oldest entry, freeing it at once.
        mutating func dropOldest() {
            bytes -= entries[first]?.record.message.utf8.count ?? 0
            entries[first] = nil
            first += 1
            if first >= 1024 && first * 2 >= entries.count {
                entries.removeFirst(first)
                first = 0
            }
        }
    }

    /// An empty book keeping the last `capacity` records, and at most `byteCapacity` bytes of their text.
    public init(capacity: Int = 2_000, byteCapacity: Int = 16 * 1024 * 1024) {
        precondition(capacity > 0, "a log book keeps at least one record")
        self.capacity = capacity
        self.byteCapacity = byteCapacity
        state = Mutex(State())
    }

    /// Keeps `record` and hands it to every follower.
    public func append(_ record: LogRecord) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let time = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
        state.withLock { state in
            state.sequence += 1
            let entry = Entry(sequence: state.sequence, time: time, record: record)
            state.entries.append(entry)
            state.bytes += record.message.utf8.count
            while state.count > capacity || (state.bytes > byteCapacity && state.count > 1) {
                state.dropOldest()
            }
            for (id, follower) in state.followers {
                if case .terminated = follower.yield(entry) { state.followers[id] = nil }
            }
        }
    }

    /// The last `limit` records (about the photon file `file` only, if given), oldest first.
    public func recent(_ limit: Int, file: String? = nil) -> [Entry] {
        let all = state.withLock { $0.entries[$0.first...].compactMap { $0 } }
        return Array(all.filter { file == nil || $0.record.file == file }.suffix(limit))
    }

    /// The records appended from now on, until the stream's consumer stops iterating.
    public func follow() -> AsyncStream<Entry> {
        let (stream, continuation) = AsyncStream.makeStream(of: Entry.self, bufferingPolicy: .bufferingOldest(capacity))
        state.withLock { state in
            state.followerIDs += 1
            state.followers[state.followerIDs] = continuation
        }
        // Dropped at the next `yield` once finished, not by an `onTermination` taking the lock
        // (see `EventHub.subscribe`: that would deadlock with an append resuming the follower).
        return stream
    }
}
