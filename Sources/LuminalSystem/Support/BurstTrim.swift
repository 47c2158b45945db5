import Dispatch
import _LuminalCShims
import Synchronization

/// Gives back to the kernel the memory that a burst of loads needed at once and then freed.
///
/// A thousand photon files loading together each hold a suspended task's frames, buffers and
/// messages until their hellos come, all at the same time; glibc keeps what they free (it hands
/// memory back only from the top of a heap), so the supervisor stayed larger by that much for
/// good. Once no load is in progress after at least `burst` of them, `malloc_trim` returns the
/// free pages, off every actor. A few loads at a time never pay for it.
package enum BurstTrim {
    /// Loads since the last trim that make the next moment with none in progress trim.
    static let burst = 64

    private static let loads = Atomic<Int>(0)

    /// A load began.
    package static func loadBegan() {
        loads.add(1, ordering: .relaxed)
    }

    /// No load is in progress: trims if at least `burst` began since the last trim.
    package static func loadsEnded() {
        guard loads.load(ordering: .relaxed) >= burst else { return }
        loads.store(0, ordering: .relaxed)
        DispatchQueue.global(qos: .utility).async { _ = malloc_trim(0) }
    }
}
