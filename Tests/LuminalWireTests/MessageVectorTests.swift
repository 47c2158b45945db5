import LuminalWire
import Testing

/// One vector of `protocol/vectors/messages.json`.
struct MessageVector: Sendable, CustomTestStringConvertible {
    let name: String
    let fromWorker: Bool
    let json: String
    let expect: [String: JSONValue]

    var testDescription: String { name }

    static func all() throws -> [MessageVector] {
        try VectorFiles.vectors("messages.json").map { vector in
            guard let name = vector["name"]?.stringValue,
                  let direction = vector["direction"]?.stringValue,
                  direction == "worker-to-host" || direction == "host-to-worker",
                  let json = vector["json"]?.stringValue,
                  let expect = vector["expect"]?.objectValue else {
                throw VectorFiles.LoadError(description: "messages.json: malformed vector \(JSONValue.object(vector))")
            }
            return MessageVector(name: name, fromWorker: direction == "worker-to-host", json: json, expect: expect)
        }
    }
}

/// The canonical form of messages.json: the message's own JSON, or the marked form of an unknown request.
private func canonical(_ message: HostMessage) -> JSONValue {
    guard case .unknown(let type, let id) = message else { return message.json }
    var members: [String: JSONValue] = ["type": .string(type), "unknown": true]
    if let id { members["id"] = .int(id) }
    return .object(members)
}

@Suite("messages.json vectors")
struct MessageVectorTests {
    @Test("the vector file holds the documented coverage")
    func coverage() throws {
        let vectors = try MessageVector.all()
        #expect(vectors.count >= 40)
        #expect(Set(vectors.map(\.name)).count == vectors.count, "vector names are unique")
        let types = Set(vectors.filter { $0.expect["fault"] == nil }.compactMap { $0.expect["type"]?.stringValue })
        #expect(types.isSuperset(of: ["hello", "result", "error", "pong", "event", "start", "stop", "call", "ping", "shutdown", "cancel",
                                        "host_call", "host_cancel", "host_result", "host_error", "part", "credit"]))
    }

    @Test("message decodes as expected", arguments: try MessageVector.all())
    func decode(_ vector: MessageVector) throws {
        let payload = try #require(try JSONValue.parse(vector.json).objectValue)
        if let fault = vector.expect["fault"]?.stringValue {
            let error = #expect(throws: ProtocolFault.self) {
                if vector.fromWorker {
                    _ = try WorkerMessage(json: payload)
                } else {
                    _ = try HostMessage(json: payload)
                }
            }
            #expect(error?.kind.rawValue == fault)
            if let member = vector.expect["member"]?.stringValue {
                #expect(error?.detail.contains("'\(member)'") == true, "\(error.map(String.init(describing:)) ?? "")")
            }
        } else if vector.fromWorker {
            let message = try WorkerMessage(json: payload)
            #expect(message.json == .object(vector.expect))
            #expect(try WorkerMessage(json: try #require(message.json.objectValue)) == message)
        } else {
            let message = try HostMessage(json: payload)
            #expect(canonical(message) == .object(vector.expect))
            #expect(try HostMessage(json: try #require(message.json.objectValue)) == message)
        }
    }
}
