/// What one worker may have waiting on the supervisor's side (`LoaderConfiguration`).
package struct RequestLimits: Sendable {
    /// Bytes of call frames queued for fd 3, not yet written.
    let queuedCallBytes: Int
    /// Calls sent and not yet answered.
    let callsInFlight: Int
    /// The largest frame payload the worker reads (`LUMINAL_FRAME_CAP`).
    package let frameCap: Int
}

/// The ids of requests abandoned after they were written to the worker: a late reply to one is
/// dropped, a reply to any other unknown id is a protocol fault.
///
/// Bounded: past `capacity` ids the older half is forgotten, and from then on a reply to an id
/// at or below the newest forgotten one that nobody awaits is dropped too.
struct AbandonedRequests {
    /// Ids kept before the older half is forgotten.
    static let capacity = 65_536

    private var ids: Set<Int64> = []
    private var forgottenUpTo: Int64 = 0

    /// How many ids are listed.
    var count: Int { ids.count }

    /// Remembers that `id` was abandoned.
    mutating func insert(_ id: Int64) {
        ids.insert(id)
        guard ids.count > Self.capacity else { return }
        let sorted = ids.sorted()
        let forgotten = sorted.prefix(sorted.count / 2)
        forgottenUpTo = max(forgottenUpTo, forgotten.last ?? 0)
        ids.subtract(forgotten)
    }

    /// Whether `id` was abandoned (and not yet answered), without forgetting it.
    func contains(_ id: Int64) -> Bool {
        ids.contains(id) || id <= forgottenUpTo
    }

    /// Whether a reply to `id`, which nobody awaits, answers an abandoned request; it is
    /// forgotten then, as a second reply to it is a fault.
    mutating func take(_ id: Int64) -> Bool {
        ids.remove(id) != nil || id <= forgottenUpTo
    }
}
