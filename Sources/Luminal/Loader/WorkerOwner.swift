import LuminalWire
import Synchronization

/// Connects a worker's hooks to its handlers, the event stream and the log.
///
/// The worker exists before its handlers (they come from its hello), so an exit or fault that
/// happens before `adopt` is kept and applied when the handlers arrive. Handlers are held weakly:
/// they hold the worker, which holds these hooks.
final class WorkerOwner: Sendable {
    private let context: LoaderContext
    private let state = Mutex<State>(State())

    private struct State {
        var supervisor: (@Sendable (ExitStatus?, FailureClass) -> Void)?
        var unreported: (ExitStatus?, FailureClass)?
        var weakHandlers: [WeakHandler] = []
        var handlers: [Handler] { weakHandlers.compactMap(\.handler) }
        var pid: Int32 = 0
        var end: (state: PhotonState, exit: ExitStatus?)?
    }

    init(context: LoaderContext) {
        self.context = context
    }

    /// Hands over the handlers created from the hello.
    func adopt(_ handlers: [Handler], pid: Int32) {
        let end = state.withLock { state in
            state.weakHandlers = handlers.map(WeakHandler.init)
            state.pid = pid
            return state.end
        }
        if let end { handlers.forEach { $0.transition(to: end.state, exit: end.exit) } }
    }

    /// Lets go of the handlers (they moved to a new generation): this worker's end no longer touches them.
    func retire() {
        state.withLock { state in
            state.weakHandlers = []
            state.supervisor = nil
        }
    }

    /// Calls `supervisor` once if this worker ends on its own (at once if it already has).
    func supervise(_ supervisor: @escaping @Sendable (ExitStatus?, FailureClass) -> Void) {
        let missed = state.withLock { state in
            state.supervisor = supervisor
            return state.unreported
        }
        if let missed { supervisor(missed.0, missed.1) }
    }

    private func report(_ exit: ExitStatus?, _ failure: FailureClass) {
        let supervisor = state.withLock { state in
            if state.supervisor == nil { state.unreported = (exit, failure) }
            return state.supervisor
        }
        supervisor?(exit, failure)
    }

    /// The hooks for the worker of `file`.
    func hooks(file: String) -> WorkerHooks {
        WorkerHooks(
            output: { [self] stream, text in
                let (names, pid) = state.withLock { ($0.handlers.map(\.name), $0.pid) }
                let tag = names.isEmpty ? Paths.name(file) : names.joined(separator: ",")
                context.log(stream == .stderr ? .warning : .info, text, file: file, tag: tag)
                context.events.emit(.log(LogLine(file: file, photons: names, pid: pid, stream: stream, text: text)))
            },
            event: { [self] photon, name, data in
                context.events.emit(.photonEvent(photon: photon, file: file, name: name, data: data))
            },
            fault: { [self] fault in
                let (handlers, pid) = end(.faulted(reason: fault.description), exit: nil)
                context.log(.error, "photon file \(file) broke the protocol and is being killed: \(fault)", file: file)
                context.events.emit(.protocolFault(file: file, photons: handlers.map(\.name), pid: pid, reason: fault.description))
                context.events.emit(.killed(file: file, pid: pid, reason: "protocol fault: \(fault)"))
                report(nil, .protocolFault)
            },
            unresponsive: { [self] timeout in
                let reason = "stopped answering heartbeats (no pong within \(timeout))"
                let (_, pid) = end(.faulted(reason: reason), exit: nil)
                context.log(.error, "photon file \(file) \(reason); killing it", file: file)
                context.events.emit(.killed(file: file, pid: pid, reason: reason))
                report(nil, .healthCheckTimeout)
            },
            exited: { [self] status, expected in
                guard !expected else {
                    state.withLock { state in state.handlers }.forEach { $0.record(exit: status) }
                    return
                }
                let (handlers, pid) = end(.crashed(status), exit: status)
                context.log(.error, "photon file \(file) exited unexpectedly with \(status)", file: file)
                context.events.emit(.crashed(file: file, photons: handlers.map(\.name), pid: pid, exit: status))
                report(status, .runtimeCrash)
            })
    }

    private func end(_ final: PhotonState, exit: ExitStatus?) -> ([Handler], Int32) {
        let (handlers, pid) = state.withLock { state in
            if state.end == nil { state.end = (final, exit) }
            return (state.handlers, state.pid)
        }
        handlers.forEach { $0.transition(to: final, exit: exit) }
        return (handlers, pid)
    }
}

/// A handler reference that does not keep it alive.
private struct WeakHandler {
    weak var handler: Handler?
}
