/// A message the host sends to a worker (PROTOCOL.md §3.2).
public enum HostMessage: Sendable, Hashable {
    /// Run the photon's start routine.
    case start(id: Int64, photon: String)
    /// Run the photon's finalizer.
    case stop(id: Int64, photon: String)
    /// Invoke a method; `params` is `null` when the message had none. `deadline` is how many
    /// milliseconds the caller will still wait (`deadline_ms`), sent only to a worker that declared
    /// the `deadline` feature; nil when absent. `stream` is the credit of a streamed call: how
    /// many parts the worker may send before it is granted more (PROTOCOL.md §3.5, feature
    /// `streams`); nil for a call whose result comes whole.
    case call(id: Int64, photon: String, method: String, params: JSONValue, deadline: Int64? = nil, stream: Int64? = nil)
    /// The caller of streamed call `id` took parts: the worker may send `parts` more (PROTOCOL.md §3.5).
    case credit(id: Int64, parts: Int64)
    /// The host gave up on call `id`: sent only to a worker that declared the `cancel` feature; no
    /// reply (PROTOCOL.md §3.3).
    case cancel(id: Int64)
    /// Liveness check, answered by `pong`.
    case ping(id: Int64)
    /// Exit promptly with status 0; no reply.
    case shutdown
    /// The successful reply to the worker's host call `id` (PROTOCOL.md §3.4).
    case hostResult(id: Int64, value: JSONValue)
    /// The failed reply to the worker's host call `id` (PROTOCOL.md §3.4).
    case hostError(id: Int64, ReplyError)
    /// A request type this version does not define; `id` if it carried one (a worker answers it with `unsupported`).
    case unknown(type: String, id: Int64?)

    /// Decodes a payload object; unknown type -> `.unknown`, not a throw.
    ///
    /// Throws `invalidMessage`, naming the member, when `type` is missing, or a member of a
    /// defined request (or the `id` of an unknown one) is missing or ill-typed. Members the
    /// protocol does not define are ignored.
    public init(members: JSONMembers) throws(ProtocolFault) {
        let (type, fields) = try MessageFields.message(members)
        switch type {
        case "start":
            self = .start(id: try fields.id(), photon: try fields.string("photon"))
        case "stop":
            self = .stop(id: try fields.id(), photon: try fields.string("photon"))
        case "call":
            self = .call(
                id: try fields.id(),
                photon: try fields.string("photon"),
                method: try fields.string("method"),
                params: members["params"] ?? .null,
                deadline: try fields.optionalNonNegativeInteger("deadline_ms"),
                stream: try fields.optionalPositiveInteger("stream")
            )
        case "credit":
            self = .credit(id: try fields.id(), parts: try Int64(fields.positiveInteger("parts")))
        case "cancel":
            self = .cancel(id: try fields.id())
        case "ping":
            self = .ping(id: try fields.id())
        case "shutdown":
            self = .shutdown
        case "host_result":
            self = .hostResult(id: try fields.id(), value: try fields.value("value"))
        case "host_error":
            self = .hostError(id: try fields.id(), ReplyError(code: try fields.string("code"), message: try fields.string("message"),
                                                             data: members["data"]))
        default:
            self = .unknown(type: type, id: try fields.optionalID())
        }
    }

    /// Decodes a payload object given as a dictionary; as `init(members:)` otherwise.
    public init(json: [String: JSONValue]) throws(ProtocolFault) {
        try self.init(members: JSONMembers(json))
    }

    /// The payload object of this message, `type` included; `call.params` is always written,
    /// `call.deadline_ms` and `call.stream` only when there is one.
    public var json: JSONValue {
        switch self {
        case .start(let id, let photon):
            ["type": "start", "id": .int(id), "photon": .string(photon)]
        case .stop(let id, let photon):
            ["type": "stop", "id": .int(id), "photon": .string(photon)]
        case .call(let id, let photon, let method, let params, let deadline, let stream):
            Self.call(id: id, photon: photon, method: method, params: params, deadline: deadline, stream: stream)
        case .credit(let id, let parts):
            ["type": "credit", "id": .int(id), "parts": .int(parts)]
        case .cancel(let id):
            ["type": "cancel", "id": .int(id)]
        case .ping(let id):
            ["type": "ping", "id": .int(id)]
        case .shutdown:
            ["type": "shutdown"]
        case .hostResult(let id, let value):
            ["type": "host_result", "id": .int(id), "value": value]
        case .hostError(let id, let error):
            error.payload(type: "host_error", id: id)
        case .unknown(let type, let id):
            if let id {
                ["type": .string(type), "id": .int(id)]
            } else {
                ["type": .string(type)]
            }
        }
    }

    /// The payload object of a call, with `deadline_ms` and `stream` when there are.
    private static func call(id: Int64, photon: String, method: String, params: JSONValue, deadline: Int64?, stream: Int64?) -> JSONValue {
        var members: [String: JSONValue] = ["type": "call", "id": .int(id), "photon": .string(photon), "method": .string(method), "params": params]
        if let deadline { members["deadline_ms"] = .int(deadline) }
        if let stream { members["stream"] = .int(stream) }
        return .object(members)
    }
}
