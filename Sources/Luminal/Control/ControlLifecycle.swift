#if canImport(Glibc)
import Glibc
#endif
import LuminalWire
import Synchronization

/// The shared state of one control connection: the task answering it, the requests waiting for
/// their replies, and its one disconnection for breaking a limit.
final class ControlLifecycle: Sendable {
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
            return state.inFlight <= ControlServer.requestsInFlightLimit
        }
        if !admitted {
            cut("it sent more than \(ControlServer.requestsInFlightLimit) requests without reading their replies (the protocol is one request at a time)")
        }
        return admitted
    }

    /// A request got its final reply.
    func answered() {
        state.withLock { $0.inFlight -= 1 }
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
