import Dispatch
import Synchronization

/// The thread every worker is spawned from, which lives as long as the supervisor.
///
/// Workers get `PR_SET_PDEATHSIG(SIGKILL)`, and the kernel sends it when the *thread* that
/// spawned the child ends, not the process: a spawn on a pool thread that is later retired would
/// kill its worker then. So the clone runs here, on a thread that is never retired, and the
/// death signal fires only when the supervisor itself goes.
final class SpawnThread: Sendable {
    /// The one spawn thread of this process, started when first used.
    static let shared = SpawnThread()

    private let jobs = Mutex<[@Sendable () -> Void]>([])
    private let waiting = DispatchSemaphore(value: 0)

    private init() {
        startThread { [self] in
            while true {
                waiting.wait()
                jobs.withLock { $0.removeFirst() }()
            }
        }
    }

    /// Runs `body` on the spawn thread and returns its result; the calling thread waits.
    func run<Value: Sendable>(_ body: @escaping @Sendable () -> Value) -> Value {
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<Value?>(nil)
        jobs.withLock { $0.append { result.withLock { $0 = body() }; done.signal() } }
        waiting.signal()
        done.wait()
        return result.withLock { $0! }
    }
}
