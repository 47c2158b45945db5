/// One frame from the supervisor to a control client.
///
/// A request gets exactly one final reply, `{"ok": true, "result": …}` or
/// `{"ok": false, "error": {"code": …, "message": …}}`. Before it, `logs` and `events` send
/// items, `{"item": …}`; when following, items keep coming until the client hangs up.
public enum ControlReply: Sendable, Hashable {
    /// The request succeeded, with its result.
    case success(JSONValue)
    /// The request failed.
    case failure(Failure)
    /// One streamed log line or event.
    case item(JSONValue)

    /// Why a request failed: a stable code for scripts and a sentence for people.
    public struct Failure: Sendable, Hashable, Error {
        /// One of the `Code` values.
        public var code: Code
        /// What went wrong, naming the photon, the file and the cause.
        public var message: String
        /// Details for scripts (e.g. the loader's own error code, the reload step).
        public var details: JSONValue

        /// A failure.
        public init(_ code: Code, _ message: String, details: JSONValue = nil) {
            self.code = code
            self.message = message
            self.details = details
        }
    }

    /// The kinds of failure a client tells apart (each has its own exit status).
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// The request was malformed, oversize, or does not fit the command.
        case badRequest
        /// No loaded photon has that name and no loaded photon file that path (or no such file).
        case notFound
        /// The operation was tried and failed (a call's error, a photon that would not start…).
        case failed
        /// A reload failed and was rolled back: the old generation keeps serving.
        case rolledBack
        /// The client's user may not control this supervisor.
        case refused
        /// A limit of the control protocol was reached: too many clients are connected, or the
        /// reply would be larger than a control frame may be.
        case limitExceeded
    }

    /// The frame's object.
    public var json: JSONValue {
        switch self {
        case .success(let result):
            ["ok": true, "result": result]
        case .failure(let failure):
            ["ok": false, "error": ["code": .string(failure.code.rawValue), "message": .string(failure.message), "details": failure.details]]
        case .item(let item):
            ["item": item]
        }
    }

    /// Decodes a frame's object as a client reads it.
    public init(object members: [String: JSONValue]) throws(ProtocolFault) {
        let fields = MessageFields(members: members, context: "control reply")
        if let item = members["item"] {
            self = .item(item)
        } else if try fields.flag("ok") {
            self = .success(members["result"] ?? nil)
        } else {
            guard let error = try fields.optionalObject("error") else { throw fields.missing("error", .object) }
            let details = MessageFields(members: error, context: "control reply error")
            let name = try details.string("code")
            guard let code = Code(rawValue: name) else { throw details.illTyped("code", .string) }
            self = .failure(Failure(code, try details.string("message"), details: error["details"] ?? nil))
        }
    }
}
