/// The most recent events of a loader, kept for `luminal events --since` (`Loader.recentEvents()`).
///
/// Bounded: past `limit` events, or `byteLimit` bytes of their JSON text, the oldest go. An event
/// whose text alone is larger than `byteLimit` is kept as `eventsDropped` (count 1), so a photon
/// emitting large events cannot make the kept ones hold more.
struct KeptEvents {
    /// How many events are kept.
    static let limit = 1_000
    /// How many bytes of JSON text (their `json`) the kept events may hold together.
    static let byteLimit = 4 * 1024 * 1024

    /// `entries[first...]` are kept, oldest first; those before `first` are dropped (nil).
    private var entries: [(event: LoaderEvent, bytes: Int)?] = []
    private var first = 0
    /// The bytes of JSON text of the events kept.
    private(set) var bytes = 0

    /// The events kept, oldest first.
    var events: [LoaderEvent] { entries[first...].compactMap { $0?.event } }

    /// How `event` is kept and what it weighs: itself and the bytes of its JSON text, or
    /// `eventsDropped` when it is larger than `byteLimit`. Measured before the lock is taken.
    static func measured(_ event: LoaderEvent) -> (event: LoaderEvent, bytes: Int) {
        let bytes = event.json.serialized().count
        guard bytes > byteLimit else { return (event, bytes) }
        let dropped = LoaderEvent.eventsDropped(count: 1)
        return (dropped, dropped.json.serialized().count)
    }

    /// Keeps a measured event and drops the oldest past the bounds; returns the events dropped,
    /// for the caller to free once it let go of its lock.
    mutating func keep(_ entry: (event: LoaderEvent, bytes: Int)) -> [LoaderEvent] {
        entries.append(entry)
        bytes += entry.bytes
        var dropped: [LoaderEvent] = []
        while entries.count - first > Self.limit || bytes > Self.byteLimit, let oldest = entries[first] {
            dropped.append(oldest.event)
            bytes -= oldest.bytes
            entries[first] = nil
            first += 1
        }
        if first >= 1024 && first * 2 >= entries.count {
            entries.removeFirst(first)
            first = 0
        }
        return dropped
    }
}
