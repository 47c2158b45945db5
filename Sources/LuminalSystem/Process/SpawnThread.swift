import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The thread every worker is spawned from, which lives as long as the supervisor.
///
/// Workers get `PR_SET_PDEATHSIG(SIGKILL)`, and the kernel sends it when the *thread* that
/// spawned the child ends, not the process: a spawn on a pool thread that is later retired would
/// kill its worker then. So the clone runs here, on a thread that is never retired, and the
/// death signal fires only when the supervisor itself goes.
package final class SpawnThread: Sendable {
    /// The one spawn thread of this process, started when first used.
    package static let shared = SpawnThread()

    private let jobs = Mutex<[@Sendable () -> Void]>([])
    private let waiting = DispatchSemaphore(value: 0)
    /// The thread (`pthread_self()` there), once it runs.
    private let thread = Atomic<pthread_t>(0)

    private init() {
        startThread { [self] in
            thread.store(pthread_self(), ordering: .relaxed)
            while true {
                waiting.wait()
                jobs.withLock { $0.removeFirst() }()
            }
        }
    }

    /// Runs `body` on the spawn thread and returns its result; the calling thread waits (on the
    /// spawn thread itself, `body` runs at once).
    package func run<Value: Sendable>(_ body: @escaping @Sendable () -> Value) -> Value {
        if pthread_equal(pthread_self(), thread.load(ordering: .relaxed)) != 0 { return body() }
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<Value?>(nil)
        submit { result.withLock { $0 = body() }; done.signal() }
        done.wait()
        return result.withLock { $0! }
    }

    /// Runs `body` on the spawn thread; the calling task is suspended meanwhile and holds no
    /// thread. A thousand loads spawning at once wait here as a thousand suspended tasks, not as
    /// a thousand blocked threads of Dispatch's pool (each with its stack and its malloc arena).
    package func perform<Value: Sendable, Failure: Error>(_ body: @escaping @Sendable () throws(Failure) -> Value) async throws(Failure) -> Value {
        // Resumed once, by the one job: unchecked, which keeps the waiting load's frame small.
        try await withUnsafeContinuation { (continuation: UnsafeContinuation<Result<Value, Failure>, Never>) in
            submit {
                do throws(Failure) {
                    continuation.resume(returning: .success(try body()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }.get()
    }

    private func submit(_ job: @escaping @Sendable () -> Void) {
        jobs.withLock { $0.append(job) }
        waiting.signal()
    }
}
