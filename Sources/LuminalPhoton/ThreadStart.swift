#if canImport(Glibc)
import Glibc
#endif

/// Starts a detached thread that runs `body`, which never returns. If the system refuses a
/// thread (a resource limit), none is started; callers carry on without it (see `ReaderToken`).
func startThread(_ body: @escaping @Sendable () -> Never) {
    let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var thread = pthread_t()
    let started = pthread_create(&thread, nil, { context in
        Unmanaged<ThreadBody>.fromOpaque(context!).takeRetainedValue().body()
    }, context)
    guard started == 0 else {
        Unmanaged<ThreadBody>.fromOpaque(context).release()
        return
    }
    pthread_detach(thread)
}

/// A thread's routine, boxed to cross `pthread_create`'s context pointer.
private final class ThreadBody: Sendable {
    let body: @Sendable () -> Never

    init(_ body: @escaping @Sendable () -> Never) {
        self.body = body
    }
}
