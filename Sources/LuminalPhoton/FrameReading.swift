#if canImport(Glibc)
import Glibc
#endif
import LuminalWire

/// The worker's reading threads: the one holding the `ReaderToken` reads fd 3 and handles the
/// frames; the others stand by to take over from it when a method blocks it.
///
/// Replies produced while the reader handles one read's frames leave together: the reader corks
/// the output for the batch and uncorks it before reading again (replies from other threads, such
/// as methods that suspended, go out at once).
final class FrameReading: @unchecked Sendable {
    // @unchecked: `decoder` and `chunk` are used only by the thread holding the token, which hands
    // them over under the token's lock.
    private let token = ReaderToken()
    private let dispatcher: RequestDispatcher
    private let output: FrameOutput
    private var decoder: FrameDecoder
    private var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    /// Said when a standby takes over from a reader stuck in a method.
    private let takeOverWarning = RuntimeWarning()

    init(dispatcher: RequestDispatcher, output: FrameOutput, cap: Int) {
        self.dispatcher = dispatcher
        self.output = output
        decoder = FrameDecoder(cap: cap)
    }

    /// Serves fd 3 on the calling thread, with a standby thread beside it, until the process exits.
    func run() -> Never {
        let seat = token.newSeat()
        startThread { [self] in serve(seat) }
        serve(ReaderToken.firstHolder)
    }

    /// One thread's life: stand by until it holds the token, read until it loses it, again. Each
    /// time it comes to hold the token other than as the first reader, it took over from a reader
    /// stuck in a method, and says so (rate-limited: `RuntimeWarning`).
    private func serve(_ seat: Int) -> Never {
        var tookOver = seat != ReaderToken.firstHolder
        while true {
            if let replacement = token.standBy(seat) {
                startThread { [self] in serve(replacement) }
            }
            if tookOver {
                takeOverWarning.write("a method has blocked the thread reading requests for over \(ReaderToken.periodMilliseconds) ms (it does not suspend); another thread reads them now")
            }
            tookOver = true
            read(as: seat)
        }
    }

    /// Reads and handles frames while `seat` holds the token; returns once it has lost it (leaving
    /// the output corked: the new holder uncorks it at the end of its first batch).
    private func read(as seat: Int) {
        while true {
            output.cork()
            while let message = nextMessage() {
                guard handle(message, as: seat) else { return }
            }
            output.uncork()
            fill()
        }
    }

    /// Handles one request: false if the token was lost while its photon code ran.
    private func handle(_ message: HostMessage, as seat: Int) -> Bool {
        switch message {
        case .start, .stop, .call, .cancel:
            // A cancel runs the call's cancellation handlers, which are photon code too.
            token.enter()
            dispatcher.handle(message)
            return token.leave(seat)
        case .ping, .shutdown, .unknown, .hostResult, .hostError, .credit:
            dispatcher.handle(message)
            return true
        }
    }

    /// The next buffered request, or nil when the buffered bytes hold no whole frame.
    private func nextMessage() -> HostMessage? {
        do throws(ProtocolFault) {
            return try decoder.nextHostMessage()
        } catch {
            PhotonWorker.fail(70, "bad frame from the supervisor: \(error)")
        }
    }

    /// Reads once from fd 3 into the decoder; exits at end of file (or a broken fd 3): the
    /// supervisor is gone or let us go.
    private func fill() {
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(3, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { _exit(0) }
            chunk.withUnsafeBytes { decoder.append(UnsafeRawBufferPointer(rebasing: $0.prefix(n))) }
            return
        }
    }
}
