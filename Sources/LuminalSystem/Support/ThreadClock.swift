#if canImport(Glibc)
import Glibc
#endif

/// The CPU time of the calling thread, in nanoseconds (`CLOCK_THREAD_CPUTIME_ID`): what a piece
/// of work cost, whatever else the process does meanwhile.
package enum ThreadClock {
    /// The calling thread's CPU time so far.
    package static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
