/// The payload of an `error` reply: a code, a human-readable message and optional data.
public struct ReplyError: Error, Sendable, Hashable {
    /// The error code; normally an `ErrorCode` raw value, but kept as received.
    public var code: String
    /// A human-readable sentence.
    public var message: String
    /// Optional structured details; `nil` when the reply had no `data` member.
    public var data: JSONValue?

    /// Creates an error with a code given as text.
    public init(code: String, message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    /// Creates an error with one of the protocol's codes.
    public init(_ code: ErrorCode, _ message: String, data: JSONValue? = nil) {
        self.init(code: code.rawValue, message: message, data: data)
    }

    /// The payload object of a reply carrying this error (`error`, `host_error`): `type`, `id`,
    /// `code`, `message`, and `data` when it has one.
    func payload(type: String, id: Int64) -> JSONValue {
        var members: [String: JSONValue] = ["type": .string(type), "id": .int(id), "code": .string(code), "message": .string(message)]
        if let data { members["data"] = data }
        return .object(members)
    }
}
