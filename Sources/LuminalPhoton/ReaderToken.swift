#if canImport(Glibc)
import Glibc
#endif

/// Which of the worker's threads reads fd 3 (the one holding the token), and the standby thread
/// that takes the token from a reader stuck in photon code.
///
/// A method that does not suspend runs on the reading thread, which costs no thread wake-up; but
/// such a method may also block that thread (a CPU loop, a blocking system call). So that pings
/// and the frames behind it are still handled, another thread stands by:
///
/// - The reader marks the handling of each frame that runs photon code (`enter`, `leave`): a flag
///   and a count of such frames, under the monitor's lock.
/// - The standby waits with no timeout while no such frame has come in since its last look: an
///   idle worker, or one that only answers pings, costs it nothing. The first such frame after
///   that wakes it (the only signal `enter` ever sends), and it then looks every period: if the
///   reader is in the same frame as at the last look, it has been stuck in it for a whole period,
///   and the standby takes the token and becomes the reader; if no frame came in since the last
///   look, it goes back to waiting with no timeout. A busy worker costs the standby one wake-up
///   per period, not one per call.
/// - The reader that lost the token learns it in `leave`, when its method returns, and stands by
///   in turn: as the standby if the slot is free, else as a spare that waits, with no timeout, to
///   fill the slot. A takeover wakes a spare to fill it, or asks for a new thread if there is
///   none, so the threads number at most the methods blocking at once plus two.
///
/// Why this is race-free: the token changes hands only under the lock, and only while its holder
/// is inside photon code (the flag is up), where the holder touches neither fd 3 nor the decoder.
/// `leave` and a takeover serialise on the lock: either the reader leaves first (the flag goes
/// down, so no takeover for that frame) or the takeover comes first (the reader's `leave` finds
/// another holder, and it reads again only once a takeover hands it the token back). The decoder
/// and the read buffer go with the token, the lock ordering the last use by the old holder before
/// the first by the new one. Only the holder reads fd 3 and handles `shutdown`, so end of file and
/// `shutdown` end the process as they would with one thread, even while another is stuck. An
/// early look (`poll` interrupted by a signal) can only take the token from a reader that is slow
/// rather than stuck, which costs a hand-over, nothing else.
final class ReaderToken: @unchecked Sendable {
    // @unchecked: every stored `var` is guarded by `monitor`'s lock.

    /// The seat of the thread that holds the token first (the one that said hello).
    static let firstHolder = 0

    /// The period: how long the reader must stay in one frame's photon code for the standby to
    /// take over (at most twice that passes before it does).
    static let periodMilliseconds: Int32 = 50
    private let monitor = ThreadMonitor(conditions: 2)
    /// The conditions of `monitor`: the standby's wake-up, and the spares'.
    private let standbyWake = 0, spareWake = 1
    /// The seat of the reader.
    private var holder = ReaderToken.firstHolder
    /// The reader is handling a frame that runs photon code.
    private var inPhotonCode = false
    /// Frames that ran photon code, ever: which frame the reader is in.
    private var entered: UInt64 = 0
    /// The seat of the standby, if a thread has taken the slot.
    private var standby: Int?
    /// The standby waits with no timeout, so the next `enter` must wake it.
    private var standbyWaiting = false
    /// Threads waiting to become the standby.
    private var spares = 0
    /// The next seat to hand out.
    private var seats = ReaderToken.firstHolder + 1

    /// A seat for a new thread, which is to call `standBy` with it.
    func newSeat() -> Int {
        monitor.lock()
        defer { monitor.unlock() }
        seats += 1
        return seats - 1
    }

    /// The reader begins handling a frame that runs photon code.
    func enter() {
        monitor.lock()
        defer { monitor.unlock() }
        inPhotonCode = true
        entered &+= 1
        if standbyWaiting {
            standbyWaiting = false
            monitor.signal(standbyWake)
        }
    }

    /// The thread in `seat` finished handling a frame that ran photon code: true if it still holds
    /// the token (it goes on reading), false if the standby took it meanwhile.
    func leave(_ seat: Int) -> Bool {
        monitor.lock()
        defer { monitor.unlock() }
        guard holder == seat else { return false }
        inPhotonCode = false
        return true
    }

    /// Returns once the thread in `seat` holds the token, standing by (or waiting as a spare) until
    /// then. The result is a seat for a new standby thread the caller is to start, when this thread
    /// took the token and no spare was left to take its place.
    func standBy(_ seat: Int) -> Int? {
        monitor.lock()
        defer { monitor.unlock() }
        // `entered` at the standby's last look; nil until it has looked once.
        var seen: UInt64?
        while holder != seat {
            if standby == nil {
                standby = seat
                seen = nil
            }
            guard standby == seat else {
                spares += 1
                monitor.wait(spareWake)
                spares -= 1
                continue
            }
            if seen == entered {
                if inPhotonCode { return takeOver(seat) }
                standbyWaiting = true
                repeat { monitor.wait(standbyWake) } while standbyWaiting
            }
            seen = entered
            monitor.unlock()
            // A plain sleep: nothing else the standby waits for can happen meanwhile.
            _ = poll(nil, 0, Self.periodMilliseconds)
            monitor.lock()
        }
        return nil
    }

    /// The standby in `seat` becomes the reader; the frame the old reader is stuck in no longer
    /// counts as the reader's. Returns a seat for a new standby thread if no spare can take the slot.
    private func takeOver(_ seat: Int) -> Int? {
        holder = seat
        standby = nil
        inPhotonCode = false
        if spares > 0 {
            monitor.signal(spareWake)
            return nil
        }
        seats += 1
        return seats - 1
    }
}
