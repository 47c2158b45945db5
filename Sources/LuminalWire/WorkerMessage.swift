/// A message a worker sends to the host (PROTOCOL.md §3.1).
public enum WorkerMessage: Sendable, Hashable {
    /// The handshake: the worker's version, pid and photons.
    case hello(Hello)
    /// The successful reply to `start`, `stop` or `call`.
    case result(id: Int64, value: JSONValue)
    /// The failed reply to `start`, `stop` or `call`.
    case error(id: Int64, ReplyError)
    /// The reply to `ping`.
    case pong(id: Int64)
    /// A notification from a photon; `data` is `null` when the message had none.
    case event(photon: String, name: String, data: JSONValue)
    /// A photon asks its host to run the host function `function` (PROTOCOL.md §3.4, feature
    /// `host_calls`): `id` is the worker's own, `within` the host request the photon is serving
    /// while it asks, if any; `params` is `null` when the message had none.
    case hostCall(id: Int64, photon: String, function: String, params: JSONValue, within: Int64?)
    /// The photon no longer waits for its host call `id`; no reply (PROTOCOL.md §3.4).
    case hostCancel(id: Int64)
    /// A part of streamed call `id`'s result, sent before its final reply (PROTOCOL.md §3.5).
    case part(id: Int64, value: JSONValue)

    /// Decodes a payload object.
    ///
    /// Throws `invalidMessage`, naming the member, when a required member is missing or
    /// ill-typed, an id is not an integer in 1...2^53−1, or `type` is not a worker message type.
    /// Members the protocol does not define are ignored; optional members that are `null` count
    /// as absent (except `error.data`, kept as given).
    public init(members: JSONMembers) throws(ProtocolFault) {
        let (type, fields) = try MessageFields.message(members)
        switch type {
        case "hello":
            self = .hello(try Hello(fields: fields))
        case "result":
            self = .result(id: try fields.id(), value: try fields.value("value"))
        case "error":
            let id = try fields.id()
            let error = ReplyError(code: try fields.string("code"), message: try fields.string("message"), data: members["data"])
            self = .error(id: id, error)
        case "pong":
            self = .pong(id: try fields.id())
        case "event":
            let photon = try fields.string("photon")
            let name = try fields.string("name", nonEmpty: true)
            self = .event(photon: photon, name: name, data: members["data"] ?? .null)
        case "host_call":
            self = .hostCall(id: try fields.id(), photon: try fields.string("photon"), function: try fields.string("function"),
                             params: members["params"] ?? .null, within: try fields.optionalID("within"))
        case "host_cancel":
            self = .hostCancel(id: try fields.id())
        case "part":
            self = .part(id: try fields.id(), value: try fields.value("value"))
        default:
            throw ProtocolFault(.invalidMessage, "member 'type' is \(JSONValue.string(type)), not a worker message type")
        }
    }

    /// Decodes a payload object given as a dictionary; as `init(members:)` otherwise.
    public init(json: [String: JSONValue]) throws(ProtocolFault) {
        try self.init(members: JSONMembers(json))
    }

    /// The payload object of this message, `type` included.
    ///
    /// Optional members are left out when absent or empty (`runtime`, `methods`, `metadata`,
    /// `tags`, `error.data`, `host_call.within`); `event.data` and `host_call.params` are always written.
    public var json: JSONValue {
        switch self {
        case .hello(let hello):
            hello.json
        case .result(let id, let value):
            ["type": "result", "id": .int(id), "value": value]
        case .error(let id, let error):
            error.payload(type: "error", id: id)
        case .pong(let id):
            ["type": "pong", "id": .int(id)]
        case .event(let photon, let name, let data):
            ["type": "event", "photon": .string(photon), "name": .string(name), "data": data]
        case .hostCall(let id, let photon, let function, let params, let within):
            if let within {
                ["type": "host_call", "id": .int(id), "photon": .string(photon), "function": .string(function), "params": params,
                 "within": .int(within)]
            } else {
                ["type": "host_call", "id": .int(id), "photon": .string(photon), "function": .string(function), "params": params]
            }
        case .hostCancel(let id):
            ["type": "host_cancel", "id": .int(id)]
        case .part(let id, let value):
            ["type": "part", "id": .int(id), "value": value]
        }
    }
}
