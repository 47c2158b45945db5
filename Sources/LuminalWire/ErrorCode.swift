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

    /// A host call (PROTOCOL.md §3.4) named no host function the host offers.
    case unknownFunction = "unknown_function"
    /// The calling photon may not make this host call (the photons it may call are narrowed).
    case notAllowed = "not_allowed"
    /// A photon-to-photon call would call a photon already waiting in its own call chain.
    case callCycle = "call_cycle"
    /// A photon-to-photon call would make its call chain longer than the host allows.
    case chainTooDeep = "chain_too_deep"
    /// The host refused the host call at once: too many of the worker's host calls are in flight,
    /// or the photon called is not keeping up.
    case overloaded = "overloaded"
    /// The photon called cannot take calls now (not started, stopped, its worker ended or it is
    /// being unloaded).
    case unavailable = "unavailable"
    /// The host function failed (threw an error without a code of its own).
    case hostError = "host_error"
}
