/// The error codes PROTOCOL.md §4 defines for `error` replies.
public enum ErrorCode: String, Sendable {
    /// The request names a photon this worker does not host.
    case unknownPhoton = "unknown_photon"
    /// The photon has no such method.
    case unknownMethod = "unknown_method"
    /// The method rejected its parameters.
    case invalidParams = "invalid_params"
    /// The photon's code failed while handling the request.
    case photonError = "photon_error"
    /// The worker does not implement that request type.
    case unsupported = "unsupported"
    /// The photon is not in a state for the request: a call to a photon that is not started, or
    /// a start of one already started or stopped.
    case invalidState = "invalid_state"
    /// The call was cancelled by the host and its method stopped; the host discards this reply.
    case cancelled = "cancelled"
    /// The method gave up because its call's deadline passed, or would pass before it could finish.
    case deadlineExceeded = "deadline_exceeded"
}
