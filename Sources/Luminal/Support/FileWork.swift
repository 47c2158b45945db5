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
enum FileWork {
    /// How many pieces of file work run at once.
    static let width = 16

    private static let slots = Slots(width: width)

    /// The result of `body`, run on a file-work queue once one of the `width` places is free.
    static func run<Value: Sendable, Failure: Error>(_ body: @escaping @Sendable () throws(Failure) -> Value) async throws(Failure) -> Value {
        try await withCheckedContinuation { (continuation: CheckedContinuation<Result<Value, Failure>, Never>) in
            slots.start {
                DispatchQueue(label: "luminal.file-work").async {
                    let result: Result<Value, Failure>
                    do throws(Failure) {
                        result = .success(try body())
                    } catch {
                        result = .failure(error)
                    }
                    slots.finished()
                    continuation.resume(returning: result)
                }
            }
        }.get()
    }
}

/// Starts at most `width` pieces of work at once; the others start in their order of arrival,
/// each as soon as one finishes.
private final class Slots: Sendable {
    private let width: Int
    private let state = Mutex<(running: Int, waiting: [@Sendable () -> Void])>((0, []))

    init(width: Int) {
        self.width = width
    }

    /// Calls `piece` now if fewer than `width` run, else once one of them has finished.
    func start(_ piece: @escaping @Sendable () -> Void) {
        let now = state.withLock { state -> Bool in
            guard state.running < width else {
                state.waiting.append(piece)
                return false
            }
            state.running += 1
            return true
        }
        if now { piece() }
    }

    /// One piece has finished: the longest waiting one starts in its place.
    func finished() {
        let next = state.withLock { state -> (@Sendable () -> Void)? in
            guard !state.waiting.isEmpty else {
                state.running -= 1
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?()
    }
}
