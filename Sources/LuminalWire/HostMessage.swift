/// A message the host sends to a worker (PROTOCOL.md §3.2).
public enum HostMessage: Sendable, Hashable {
    /// Run the photon's start routine.
    case start(id: Int64, photon: String)
    /// Run the photon's finalizer.
    case stop(id: Int64, photon: String)
    /// Invoke a method; `params` is `null` when the message had none.
    case call(id: Int64, photon: String, method: String, params: JSONValue)
    /// Liveness check, answered by `pong`.
    case ping(id: Int64)
    /// Exit promptly with status 0; no reply.
    case shutdown
    /// A request type this version does not define; `id` if it carried one (a worker answers it with `unsupported`).
    case unknown(type: String, id: Int64?)

    /// Decodes a payload object; unknown type -> `.unknown`, not a throw.
    ///
    /// Throws `invalidMessage`, naming the member, when `type` is missing, or a member of a
    /// defined request (or the `id` of an unknown one) is missing or ill-typed. Members the
    /// protocol does not define are ignored.
    public init(json: [String: JSONValue]) throws(ProtocolFault) {
        let (type, fields) = try MessageFields.message(json)
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
                params: json["params"] ?? .null
            )
        case "ping":
            self = .ping(id: try fields.id())
        case "shutdown":
            self = .shutdown
        default:
            self = .unknown(type: type, id: try fields.optionalID())
        }
    }

    /// The payload object of this message, `type` included; `call.params` is always written.
    public var json: JSONValue {
        switch self {
        case .start(let id, let photon):
            ["type": "start", "id": .int(id), "photon": .string(photon)]
        case .stop(let id, let photon):
            ["type": "stop", "id": .int(id), "photon": .string(photon)]
        case .call(let id, let photon, let method, let params):
            ["type": "call", "id": .int(id), "photon": .string(photon), "method": .string(method), "params": params]
        case .ping(let id):
            ["type": "ping", "id": .int(id)]
        case .shutdown:
            ["type": "shutdown"]
        case .unknown(let type, let id):
            if let id {
                ["type": .string(type), "id": .int(id)]
            } else {
                ["type": .string(type)]
            }
        }
    }
}
