#if canImport(Glibc)
import Glibc
#endif
import LuminalSystem
import LuminalWire
import Synchronization

/// The shared state of one control connection: the task answering it, the requests waiting for
/// their replies, what it is doing (for the idle timeout and eviction, `ControlServer`), and its
/// one disconnection for breaking a limit or to make room.
final class ControlLifecycle: Sendable {
    /// What a connection is doing, as the server judges it when it needs room or a timer fires.
    enum Activity: Equatable {
        /// No request waits for its reply (none was sent, or every one is answered; a request
        /// being sent counts as none), since this instant (`Uptime`).
        case idle(since: UInt64)
        /// Streaming (`events`, `logs -f`) since this instant.
        case streaming(since: UInt64)
        /// A request is being answered.
        case busy
    }

    private let pid: pid_t
    private let requests: AsyncStream<Result<ControlRequest, ProtocolFault>>.Continuation
    private let writer: FrameWriter
    private let log: @Sendable (String) -> Void
    private let state = Mutex<State>(State())

    private struct State {
        var task: Task<Void, Never>?
        var stopReading: (@Sendable () -> Void)?
        var inFlight = 0
        var cut = false
        var idleSince: UInt64? = Uptime.now()
        var streamingSince: UInt64?
        /// Why the server closed it to make room; its stream's final reply says so.
        var evicted: String?
    }

    init(pid: pid_t, requests: AsyncStream<Result<ControlRequest, ProtocolFault>>.Continuation, writer: FrameWriter,
         log: @escaping @Sendable (String) -> Void) {
        self.pid = pid
        self.requests = requests
        self.writer = writer
        self.log = log
    }

    /// The task answering requests; cancelled if the connection is already over.
    func setTask(_ task: Task<Void, Never>) {
        let over = state.withLock { state -> Bool in
            state.task = task
            return state.cut
        }
        if over { task.cancel() }
    }

    /// How to stop reading the client's requests.
    func onCut(_ stopReading: @escaping @Sendable () -> Void) {
        state.withLock { $0.stopReading = stopReading }
    }

    /// Counts a request that arrived; false (and the client is disconnected) if it is one more
    /// than `ControlServer.requestsInFlightLimit` waiting for their replies.
    func admitRequest() -> Bool {
        let admitted = state.withLock { state -> Bool in
            guard !state.cut else { return false }
            state.inFlight += 1
            state.idleSince = nil
            return state.inFlight <= ControlServer.requestsInFlightLimit
        }
        if !admitted {
            cut("it sent more than \(ControlServer.requestsInFlightLimit) requests without reading their replies (the protocol is one request at a time)")
        }
        return admitted
    }

    /// A request got its final reply.
    func answered() {
        state.withLock { state in
            state.inFlight -= 1
            if state.inFlight == 0 { state.idleSince = Uptime.now() }
        }
    }

    /// The request being answered streams (`events`, `logs -f`) until it ends: `streaming(false)`.
    func streaming(_ streams: Bool) {
        state.withLock { $0.streamingSince = streams ? Uptime.now() : nil }
    }

    /// What the connection is doing now.
    var activity: Activity {
        state.withLock { state in
            if let since = state.idleSince { return .idle(since: since) }
            if let since = state.streamingSince { return .streaming(since: since) }
            return .busy
        }
    }

    /// Why the server closed the connection to make room, if it did.
    var evictionReason: String? {
        state.withLock { $0.evicted }
    }

    /// Closes the connection to make room for another: it reads no more requests, and the
    /// request in progress (a stream) is cancelled; its final reply is then `reason`.
    func evict(_ reason: String) {
        let (first, task, stopReading) = state.withLock { state in
            defer { state.cut = true }
            if !state.cut { state.evicted = reason }
            return (!state.cut, state.task, state.stopReading)
        }
        guard first else { return }
        stopReading?()
        requests.finish()
        task?.cancel()
    }

    /// Cancels the request in progress (the client hung up).
    func cancelTask() {
        state.withLock { $0.task }?.cancel()
    }

    /// Ends the request stream.
    func finishRequests() {
        requests.finish()
    }

    /// Disconnects the client for breaking a limit, and logs it with its pid, once.
    func cut(_ reason: String) {
        let (first, task, stopReading) = state.withLock { state in
            defer { state.cut = true }
            return (!state.cut, state.task, state.stopReading)
        }
        guard first else { return }
        log("control client pid \(pid) disconnected: \(reason)")
        stopReading?()
        requests.finish()
        writer.close()
        task?.cancel()
    }
}
