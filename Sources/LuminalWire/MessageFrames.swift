/// Frames for the messages of every call (call, cancel, result, error, ping, pong, and the host calls'), written straight
/// into the frame buffer: no `JSONValue` object, and so no dictionary, is built for them. The
/// payload is the same JSON object as `json` gives (members in a fixed order).
extension HostMessage {
    /// This message as a frame (PROTOCOL.md §2).
    public var frame: [UInt8] {
        switch self {
        case .call(let id, let photon, let method, let params, let deadline, let stream):
            var object = FrameObject(type: "call", id: id)
            object.member("photon", string: photon)
            object.member("method", string: method)
            object.member("params", params)
            if let deadline { object.member("deadline_ms", integer: deadline) }
            if let stream { object.member("stream", integer: stream) }
            return object.frame()
        case .credit(let id, let parts):
            var object = FrameObject(type: "credit", id: id)
            object.member("parts", integer: parts)
            return object.frame()
        case .cancel(let id):
            return FrameObject(type: "cancel", id: id).frame()
        case .ping(let id):
            return FrameObject(type: "ping", id: id).frame()
        case .hostResult(let id, let value):
            return FrameObject(type: "host_result", id: id, value: value).frame()
        case .hostError(let id, let error):
            return FrameObject(type: "host_error", id: id, error).frame()
        default:
            return Frame.encode(json)
        }
    }
}

extension WorkerMessage {
    /// This message as a frame (PROTOCOL.md §2).
    public var frame: [UInt8] {
        switch self {
        case .result(let id, let value):
            return FrameObject(type: "result", id: id, value: value).frame()
        case .part(let id, let value):
            return FrameObject(type: "part", id: id, value: value).frame()
        case .error(let id, let error):
            return FrameObject(type: "error", id: id, error).frame()
        case .pong(let id):
            return FrameObject(type: "pong", id: id).frame()
        case .hostCall(let id, let photon, let function, let params, let within):
            var object = FrameObject(type: "host_call", id: id)
            object.member("photon", string: photon)
            object.member("function", string: function)
            object.member("params", params)
            if let within { object.member("within", integer: within) }
            return object.frame()
        default:
            return Frame.encode(json)
        }
    }
}

/// A frame whose payload is a JSON object being written member by member.
private struct FrameObject {
    private var bytes: [UInt8] = []

    /// An object starting with `type` and `id`, after room for the length header (one
    /// allocation for most frames).
    init(type: StaticString, id: Int64) {
        bytes.reserveCapacity(128)
        bytes.append(contentsOf: repeatElement(0, count: Frame.headerSize))
        JSONWriter.append("{\"type\":\"", to: &bytes)
        JSONWriter.append(type, to: &bytes)
        JSONWriter.append("\",\"id\":", to: &bytes)
        JSONWriter.appendInteger(id, to: &bytes)
    }

    /// A reply carrying a value (`result`, `part`, `host_result`): `type`, `id` and `value`.
    init(type: StaticString, id: Int64, value: JSONValue) {
        self.init(type: type, id: id)
        member("value", value)
    }

    /// An error reply (`error`, `host_error`): `type`, `id`, `code`, `message` and `data` if it has one.
    init(type: StaticString, id: Int64, _ error: ReplyError) {
        self.init(type: type, id: id)
        member("code", string: error.code)
        member("message", string: error.message)
        if let data = error.data { member("data", data) }
    }

    /// Appends `"key":` and `value`.
    mutating func member(_ key: StaticString, _ value: JSONValue) {
        name(key)
        value.write(into: &bytes)
    }

    /// Appends `"key":` and the integer `value`.
    mutating func member(_ key: StaticString, integer value: Int64) {
        name(key)
        JSONWriter.appendInteger(value, to: &bytes)
    }

    /// Appends `"key":` and the string `value`.
    mutating func member(_ key: StaticString, string value: String) {
        name(key)
        JSONWriter.appendString(value, to: &bytes)
    }

    private mutating func name(_ key: StaticString) {
        JSONWriter.append(",\"", to: &bytes)
        JSONWriter.append(key, to: &bytes)
        JSONWriter.append("\":", to: &bytes)
    }

    /// The object closed, with its length header filled in.
    consuming func frame() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        Frame.writeHeader(into: &bytes)
        return bytes
    }
}
