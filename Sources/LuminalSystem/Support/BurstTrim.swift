import Dispatch
import _LuminalCShims
import Synchronization

/// Gives back to the kernel the memory that a burst of loads needed at once and then freed.
///
/// A thousand photon files loading together each hold a suspended task's frames, buffers and
/// messages until their hellos come, all at the same time; glibc keeps what they free (it hands
/// memory back only from the top of a heap), so the supervisor stayed larger by that much for
/// good. That memory is held not only by the loads but by the work around them until it ends: a
/// watcher's act hashes its file before its load and starts its photons after it, and keeps its
/// frames the whole time. So each piece of such work counts (`Work`) from its start to its end,
/// and once none is in progress after at least `burst` loads, `malloc_trim` returns the free
/// pages, off every actor. A few loads at a time never pay for it.
package enum BurstTrim {
    /// Loads since the last trim that make the next moment with no work in progress trim.
    static let burst = 64

    /// What holds memory during a burst of loads.
    package enum Work {
        /// A load: counts towards `burst`.
        case load
        /// Work around loads (it makes them, or waits for them): holds the trim back until it ends.
        case around
    }

    /// The work in progress and the loads since the last trim: when to trim, apart from trimming.
    struct Tally {
        /// Work that began and has not ended.
        private(set) var inProgress = 0
        /// Loads begun since the last trim.
        private(set) var loads = 0

        /// `work` began.
        mutating func began(_ work: Work) {
            inProgress += 1
            if work == .load { loads += 1 }
        }

        /// Work that began ended: whether to trim now (it was the last in progress, after at
        /// least `burst` loads); the count of loads starts again when so.
        mutating func ended() -> Bool {
            inProgress -= 1
            guard inProgress == 0, loads >= burst else { return false }
            loads = 0
            return true
        }
    }

    private static let tally = Mutex(Tally())

    /// `work` began; `ended()` (or `endedAfterTrim()`) must follow it.
    package static func began(_ work: Work) {
        tally.withLock { $0.began(work) }
    }

    /// Work that began ended: trims, on a global queue, when it was the last in progress after at
    /// least `burst` loads.
    package static func ended() {
        if tally.withLock({ $0.ended() }) { DispatchQueue.global(qos: .utility).async { _ = malloc_trim(0) } }
    }

    /// Work that began ended, as `ended()`, and returns once the trim it made is over: for the
    /// end of a burst that a caller waits for (a watcher's first loads), so that the supervisor
    /// it hands back is one without the burst.
    package static func endedAfterTrim() async {
        guard tally.withLock({ $0.ended() }) else { return }
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global(qos: .utility).async {
                _ = malloc_trim(0)
                done.resume()
            }
        }
    }
}
