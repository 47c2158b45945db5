@_exported import LuminalWire

/// One photon a Swift worker hosts: its name, kinds, metadata, start and stop routines, and methods.
///
/// ```swift
/// let greeter = Photon("greeter", description: "Says hello")
///     .method("greet") { params, _ in ["greeting": .string("Hello, \(params["who"]?.stringValue ?? "world")!")] }
/// PhotonWorker.run(greeter)
/// ```
public struct Photon: Sendable {
    /// A method: takes the call's params and the photon's context, returns the result. It runs on
    /// the thread that read the call until it first suspends, then on the global executor.
    public typealias Method = @Sendable (JSONValue, PhotonContext) async throws -> JSONValue
    /// A start routine or finalizer; it runs where a method does.
    public typealias Routine = @Sendable (PhotonContext) async throws -> Void

    /// How the photon presents itself in the hello.
    public private(set) var descriptor: PhotonDescriptor
    var methods: [String: Method] = [:]
    var start: Routine?
    var stop: Routine?

    /// A photon named `name` (letters, digits, `.`, `_`, `-`), of the given kinds and metadata.
    public init(_ name: String, kinds: [String] = ["IPhoton"], author: String? = nil, version: String? = nil,
                description: String? = nil, tags: [String] = []) {
        descriptor = PhotonDescriptor(name: name, kinds: kinds, methods: [],
                                      metadata: PhotonMetadata(author: author, version: version, description: description, tags: tags))
    }

    /// The photon's name.
    public var name: String { descriptor.name }

    /// This photon with the method `name` added (replacing one of the same name). An
    /// `idempotent` method is safe to run again: a call to it that was in flight when the worker
    /// crashed is sent again to the next worker process.
    public func method(_ name: String, idempotent: Bool = false, _ body: @escaping Method) -> Photon {
        var copy = self
        copy.methods[name] = body
        copy.descriptor.methods = copy.methods.keys.sorted()
        copy.descriptor.idempotent.removeAll { $0 == name }
        if idempotent { copy.descriptor.idempotent.append(name) }
        return copy
    }

    /// This photon with a start routine, run when the supervisor starts it.
    public func onStart(_ body: @escaping Routine) -> Photon {
        var copy = self
        copy.start = body
        return copy
    }

    /// This photon with a finalizer, run when the supervisor stops it gracefully.
    public func onStop(_ body: @escaping Routine) -> Photon {
        var copy = self
        copy.stop = body
        return copy
    }
}

/// What a photon's code can do besides returning results.
///
/// A method's call can be cancelled by the supervisor (its caller gave up): the method's task is
/// then cancelled, so `Task.isCancelled`, `Task.checkCancellation()` and
/// `withTaskCancellationHandler` work as usual. Its reply is discarded by then; a method that
/// stops throws `CancellationError` (answered `cancelled`).
public struct PhotonContext: Sendable {
    /// The photon's name.
    public let photon: String
    let output: FrameOutput
    /// When the caller of this call stops waiting for its reply; nil for a call without a
    /// deadline, and for start routines and finalizers.
    public let deadline: ContinuousClock.Instant?
    /// The functions the host offers this photon (PROTOCOL.md §3.4).
    public let host: PhotonHost
    /// Where a streamed call's parts go; nil for a call whose caller wants its result whole.
    var parts: PartSender?

    init(photon: String, output: FrameOutput, hostCalls: HostCalls, request: Int64?, deadline: ContinuousClock.Instant? = nil) {
        self.photon = photon
        self.output = output
        self.deadline = deadline
        host = PhotonHost(photon: photon, calls: hostCalls, request: request)
    }

    /// Whether this call is streamed: its caller takes parts of its result (`sendPart`) before
    /// the final value the method returns (PROTOCOL.md §3.5).
    public var isStreamed: Bool { parts != nil }

    /// Sends `part` of the call's result to its caller now, waiting while the caller has not yet
    /// taken enough of the parts before it (its credit). For a call that is not streamed
    /// (`isStreamed` false) it throws `invalid_state`: return the whole result instead. Throws
    /// `CancellationError` if the call is cancelled or ends while it waits, and `photon_error` for
    /// a part larger than the frame cap (nothing is sent).
    public func sendPart(_ part: JSONValue) async throws {
        guard let parts else { throw PhotonError(.invalidState, "this call of photon \(photon) is not streamed: its caller takes the result whole") }
        try await parts.send(part)
    }

    /// Calls `method` of the loaded photon `photon` through the host (its built-in host function
    /// `call`) and returns its result, or throws its error reply as a `PhotonError` with the
    /// same code. The call belongs to this request's call chain: it is bounded by this call's
    /// deadline (and `timeout` if given), cancelled with it, and refused (`call_cycle`,
    /// `chain_too_deep`, `not_allowed`, `unknown_photon`) rather than left to deadlock.
    public func call(_ photon: String, _ method: String, _ params: JSONValue = nil, timeout: Duration? = nil) async throws -> JSONValue {
        var request: [String: JSONValue] = ["photon": .string(photon), "method": .string(method), "params": params]
        if let timeout {
            let (seconds, attoseconds) = timeout.components
            request["timeout"] = .double(Double(seconds) + Double(attoseconds) / 1e18)
        }
        return try await host.call("call", .object(request))
    }

    /// Throws `deadline_exceeded` if the call's deadline has passed, or would pass within
    /// `margin`: a method that cannot finish in time gives up with a clear error.
    public func checkDeadline(margin: Duration = .zero) throws(PhotonError) {
        guard let deadline, ContinuousClock.now + margin >= deadline else { return }
        throw PhotonError(.deadlineExceeded, "photon \(photon) gave up: the call's deadline \(margin == .zero ? "passed" : "is less than \(margin) away")")
    }

    /// Sends an event to the supervisor, which reports it on its event stream.
    public func emit(_ name: String, _ data: JSONValue = nil) {
        output.send(.event(photon: photon, name: name, data: data))
    }
}

/// The host functions a photon may call (PROTOCOL.md §3.4): those the host application
/// registered on its `Loader`, and the built-in `call` and `config`.
public struct PhotonHost: Sendable {
    let photon: String
    let calls: HostCalls
    /// The host request the photon serves, whose call chain and deadline a host call carries on.
    let request: Int64?

    /// Calls the host function `function` with `params` and returns its result; throws its error
    /// reply as a `PhotonError` (e.g. `unknown_function`), or `CancellationError` when the
    /// calling task is cancelled (the host is told, and stops the function).
    public func call(_ function: String, _ params: JSONValue = nil) async throws -> JSONValue {
        try await calls.call(photon: photon, function: function, params: params, within: request)
    }
}

/// Sends the parts of one streamed call, each once the host has granted credit for it.
struct PartSender: Sendable {
    let id: Int64
    let credits: StreamCredits
    let output: FrameOutput

    func send(_ part: JSONValue) async throws {
        let frame = WorkerMessage.part(id: id, value: part).frame
        guard frame.count - Frame.headerSize <= output.cap else {
            throw PhotonError(.photonError, "the part is \(frame.count - Frame.headerSize) bytes as a frame, over the frame cap of \(output.cap)")
        }
        guard await credits.take(id) else { throw CancellationError() }
        output.send(frame: frame)
        credits.sent(id)
    }
}

/// The error a method throws to answer with a protocol error code, e.g.
/// `throw PhotonError(.invalidParams, "'who' must be a string")`. Any other error thrown by a
/// method is answered with `photon_error` and the error's description.
public typealias PhotonError = ReplyError

extension ReplyError {
    /// `invalid_params` with this message.
    public static func invalidParams(_ message: String) -> ReplyError { ReplyError(.invalidParams, message) }
}
