#if canImport(Glibc)
import Glibc
#endif

/// A pthread mutex with condition variables waited on under it (the Synchronization module's
/// `Mutex` has none); the conditions are numbered from 0.
final class ThreadMonitor: @unchecked Sendable {
    // @unchecked: the pthread objects are the synchronisation; their storage never moves.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let conditions: UnsafeMutablePointer<pthread_cond_t>
    private let count: Int

    init(conditions count: Int) {
        self.count = count
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        conditions = .allocate(capacity: count)
        (0..<count).forEach { pthread_cond_init(conditions + $0, nil) }
    }

    deinit {
        (0..<count).forEach { pthread_cond_destroy(conditions + $0) }
        conditions.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func lock() {
        pthread_mutex_lock(mutex)
    }

    func unlock() {
        pthread_mutex_unlock(mutex)
    }

    /// With the lock held: releases it, waits for a `signal` of `condition` (or a spurious
    /// wake-up), and takes it again.
    func wait(_ condition: Int) {
        pthread_cond_wait(conditions + condition, mutex)
    }

    /// Wakes one thread waiting on `condition`, if any.
    func signal(_ condition: Int) {
        pthread_cond_signal(conditions + condition)
    }
}
