import LuminalSystem
import LuminalWire

/// How a worker tells its owner what happens to it. Every hook runs on the worker's queue.
package struct WorkerHooks: Sendable {
    /// A line the worker (its pid last) wrote on stdout or stderr.
    package var output: @Sendable (OutputStream, String, Int32) -> Void
    /// An event a photon emitted: photon, name, data.
    package var event: @Sendable (String, String, JSONValue) -> Void
    /// The worker broke the protocol.
    package var fault: @Sendable (ProtocolFault) -> Void
    /// The worker stopped answering heartbeats within `timeout`.
    package var missedHeartbeat: @Sendable (_ timeout: Duration) -> Void
    /// The worker became unresponsive (its calls keep timing out) or answered a call again.
    package var responsiveness: @Sendable (CallResponsiveness.Change) -> Void
    /// The worker stayed unresponsive for `bound` (`HealthCheck.unresponsive`) and is given up.
    package var unresponsiveTooLong: @Sendable (_ bound: Duration) -> Void
    /// The worker process exited (whether it was asked to is its lifecycle's to judge), killed
    /// by one of its limits when `overLimit` says which.
    package var exited: @Sendable (_ status: ExitStatus, _ overLimit: FailureClass?) -> Void
    /// A photon's host call (PROTOCOL.md §3.4): starts the task that runs it and hands its
    /// outcome (its result, or the error the worker is answered with) to `answer`, and returns
    /// that task, which the worker cancels when it gives the call up. The task must not run user
    /// code on the calling thread (the epoll thread's, inside the queue).
    package var hostCall: @Sendable (HostRequest, _ answer: @escaping @Sendable (Result<JSONValue, ReplyError>) -> Void) -> Task<Void, Never>

    package init(output: @escaping @Sendable (OutputStream, String, Int32) -> Void, event: @escaping @Sendable (String, String, JSONValue) -> Void, fault: @escaping @Sendable (ProtocolFault) -> Void, missedHeartbeat: @escaping @Sendable (_ timeout: Duration) -> Void, responsiveness: @escaping @Sendable (CallResponsiveness.Change) -> Void, unresponsiveTooLong: @escaping @Sendable (_ bound: Duration) -> Void, exited: @escaping @Sendable (_ status: ExitStatus, _ overLimit: FailureClass?) -> Void, hostCall: @escaping @Sendable (HostRequest, _ answer: @escaping @Sendable (Result<JSONValue, ReplyError>) -> Void) -> Task<Void, Never>) {
        self.output = output
        self.event = event
        self.fault = fault
        self.missedHeartbeat = missedHeartbeat
        self.responsiveness = responsiveness
        self.unresponsiveTooLong = unresponsiveTooLong
        self.exited = exited
        self.hostCall = hostCall
    }
}
