import Synchronization

/// Abandons the hashes in progress: each hash notes the epoch it began in and gives up, between
/// two chunks, once `cancelAll()` has moved the epoch on. Hashes begun afterwards run as usual.
package final class HashCancellation: Sendable {
    private let epoch = Atomic(0)

    /// The cancellations that also apply to hashes run in the current task (the watcher sets its
    /// own for the loads of new files it starts, so that it can stop without waiting for their
    /// hashes; a reload it starts is not in it, and finishes first).
    @TaskLocal package static var scope: [HashCancellation] = []

    /// A mark to check later with `isCancelled(since:)`.
    package var mark: Int { epoch.load(ordering: .acquiring) }

    /// Whether `cancelAll()` was called after `mark` was taken.
    package func isCancelled(since mark: Int) -> Bool {
        epoch.load(ordering: .acquiring) != mark
    }

    /// Abandons every hash begun before now.
    package func cancelAll() {
        epoch.add(1, ordering: .releasing)
    }

    package init() {}
}
