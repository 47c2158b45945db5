import Dispatch
import Synchronization

/// Runs work that may take long or block (hashing a photon file, reading a manifest, listing a
/// folder) on threads of its own, never on an actor: the loader, the watcher and the control
/// socket go on answering while it runs.
///
/// Each piece of work gets a serial queue of its own, which libdispatch runs on its
/// overcommitting pool: a thread is found for it even while others hash at full speed, so two
/// huge files hold back neither a third file's work nor the timers on the global queue (a pool
/// of width "one per core" would). At most `width` pieces run at once, the others wait their
/// turn as suspended tasks, in order: that pool makes a thread for every piece queued while the
/// others are busy, and a thousand loads at once used to take it to its limit of 255 threads,
/// each with a stack and, in the 16 malloc arenas they spread over, memory kept after the burst.
package enum FileWork {
    /// How many pieces of file work run at once.
    static let width = 16

    private static let pieces = QueuedPieces(width: width)

    /// The result of `body`, run on a file-work queue once one of the `width` places is free.
    package static func run<Value: Sendable, Failure: Error>(_ body: @escaping @Sendable () throws(Failure) -> Value) async throws(Failure) -> Value {
        try await withCheckedContinuation { (continuation: CheckedContinuation<Result<Value, Failure>, Never>) in
            pieces.start {
                do throws(Failure) {
                    continuation.resume(returning: .success(try body()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }.get()
    }
}

/// Runs pieces of work, at most `width` at once, each on a queue of its own; the others wait in
/// their order of arrival. A queue that finishes a piece runs the next one waiting, on the same
/// thread: handing it to a new queue would wake the pool while that thread is still busy, and
/// the pool makes a thread for every such wake-up.
private final class QueuedPieces: Sendable {
    private let width: Int
    private let state = Mutex<(running: Int, waiting: [@Sendable () -> Void])>((0, []))

    init(width: Int) {
        self.width = width
    }

    /// Runs `piece` on a new file-work queue if fewer than `width` run, else after those before it.
    func start(_ piece: @escaping @Sendable () -> Void) {
        let now = state.withLock { state -> Bool in
            guard state.running < width else {
                state.waiting.append(piece)
                return false
            }
            state.running += 1
            return true
        }
        guard now else { return }
        DispatchQueue(label: "luminal.file-work").async { [self] in
            var next: (@Sendable () -> Void)? = piece
            while let current = next {
                current()
                next = state.withLock { state in
                    guard !state.waiting.isEmpty else {
                        state.running -= 1
                        return nil
                    }
                    return state.waiting.removeFirst()
                }
            }
        }
    }
}
