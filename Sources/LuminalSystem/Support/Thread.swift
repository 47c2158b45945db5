#if canImport(Glibc)
import Glibc
#endif

/// Starts a detached thread running `body`, with every asynchronous signal blocked on it.
///
/// The supervisor's own threads (the event loop, the spawn thread, the metrics server) never take
/// a signal sent to the process (`SIGTERM`, `SIGCHLD`, …): one of them may wait in a system call
/// that a sanitizer's runtime does not see, which would hold the signal back as long as the wait
/// lasts. Faults (`SIGSEGV`, `SIGBUS`, …) stay deliverable, so a crash is still reported.
package func startThread(_ body: @escaping @Sendable () -> Void) {
    final class Box: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    var thread = pthread_t()
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    let rc = pthread_create(&thread, nil, { context in
        var blocked = sigset_t()
        sigfillset(&blocked)
        for fault in [SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS] { sigdelset(&blocked, fault) }
        pthread_sigmask(SIG_BLOCK, &blocked, nil)
        Unmanaged<Box>.fromOpaque(context!).takeRetainedValue().body()
        return nil
    }, context)
    precondition(rc == 0, "pthread_create failed: \(rc)")
    pthread_detach(thread)
}
