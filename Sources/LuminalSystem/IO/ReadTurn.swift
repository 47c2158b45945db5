#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// How one turn of reading a non-blocking descriptor ended (`readChunks`).
enum ReadTurn: Equatable {
    /// Everything available was read: the next read would block.
    case exhausted
    /// The turn's reads were used up; more may be waiting.
    case more
    /// The consumer asked to stop.
    case stopped
    /// End of file.
    case end
    /// A read failed with this `errno`.
    case failed(Int32)

    /// Chunks a frame reader reads per turn of its queue: up to 256 KiB.
    static let frameReadsPerTurn = 4
    /// Chunks an output pipe's reader reads per turn: one, as each of its lines goes to the
    /// log and the event stream (a chunk of short lines costs more than one of frames).
    static let outputReadsPerTurn = 1
}

/// Reads `fd` (non-blocking) in chunks of up to 64 KiB, handing each to `consume`, for at most
/// `reads` chunks; `consume` returns false to stop. The buffer is not zeroed and not kept.
///
/// The event-loop readers read a few chunks per turn of their queue and continue in a later
/// turn, so that a worker writing without pause never holds its queue for long (the event loop
/// may be waiting for that queue, see `EventLoop.add(_:inside:running:_:)`).
func readChunks(_ fd: Int32, reads: Int, _ consume: (UnsafeRawBufferPointer) -> Bool) -> ReadTurn {
    withUnsafeTemporaryAllocation(byteCount: 64 * 1024, alignment: 16) { buffer in
        var done = 0
        while done < reads {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n > 0 {
                done += 1
                guard consume(UnsafeRawBufferPointer(rebasing: buffer[..<n])) else { return .stopped }
            } else if n == 0 {
                return .end
            } else {
                let failure = errno
                if failure == EINTR { continue }
                return failure == EAGAIN ? .exhausted : .failed(failure)
            }
        }
        return .more
    }
}

/// Whether a read turn of one descriptor is queued on its owner's queue. An edge-triggered
/// readiness that comes while one is queued adds none (that turn reads what came), and a turn
/// that leaves more to read queues the next only if none is: at most one waits per descriptor,
/// so the queue, and the event loop's thread when it waits for that queue, never fall behind a
/// growing backlog of turns for a descriptor that keeps refilling.
final class QueuedTurn: Sendable {
    private let queued = Atomic(false)

    /// Marks a turn queued: true if none was (the caller then queues it).
    func claim() -> Bool {
        !queued.exchange(true, ordering: .acquiringAndReleasing)
    }

    /// Whether a turn is queued.
    var isQueued: Bool { queued.load(ordering: .acquiring) }

    /// The queued turn begins: a readiness from now on needs a turn of its own.
    func begin() {
        queued.store(false, ordering: .releasing)
    }
}
