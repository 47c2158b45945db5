import LuminalWire
import Testing

private func decodeFault(_ body: () throws -> Void) -> ProtocolFault? {
    do {
        try body()
        return nil
    } catch {
        return error as? ProtocolFault ?? ProtocolFault(.invalidMessage, "unexpected error \(error)")
    }
}

private let sampleHello = Hello(
    pid: 4242,
    runtime: "luminal-swift/1",
    photons: [
        PhotonDescriptor(
            name: "greeter",
            kinds: ["IPhoton"],
            methods: ["greet"],
            metadata: PhotonMetadata(author: "Ada", version: "1.0.0", description: "Says hello", tags: ["demo"], extra: ["license": "MIT"]),
            idempotent: ["greet"]
        ),
        PhotonDescriptor(name: "bare"),
    ],
    features: ["cancel", "deadline"]
)

@Suite("Messages")
struct MessageTests {
    @Test("every worker message survives json and a frame", arguments: [
        WorkerMessage.hello(sampleHello),
        .result(id: 7, value: ["greeting": "Hello"]),
        .result(id: 1, value: nil),
        .error(id: 7, ReplyError(.unknownMethod, "greeter has no method 'gret'")),
        .error(id: 8, ReplyError(code: "custom", message: "m", data: ["x": 1])),
        .error(id: 9, ReplyError(.photonError, "boom", data: nil)),
        .pong(id: 9_007_199_254_740_991),
        .event(photon: "greeter", name: "tick", data: nil),
        .event(photon: "greeter", name: "tick", data: [1, 2]),
    ])
    func workerRoundTrip(_ message: WorkerMessage) throws {
        var decoder = FrameDecoder()
        decoder.append(Frame.encode(message.json))
        let object = try #require(try decoder.nextObject())
        #expect(try WorkerMessage(json: object) == message)
        // The frame written member by member holds the same object.
        decoder.append(message.frame)
        #expect(try decoder.nextObject().map(JSONValue.object) == message.json)
    }

    @Test("every host message survives json and a frame", arguments: [
        HostMessage.start(id: 1, photon: "greeter"),
        .stop(id: 2, photon: "greeter"),
        .call(id: 3, photon: "greeter", method: "greet", params: ["who": "Ada"]),
        .call(id: 4, photon: "greeter", method: "greet", params: nil),
        .call(id: 7, photon: "greeter", method: "greet", params: nil, deadline: 1500),
        .cancel(id: 3),
        .ping(id: 5),
        .shutdown,
        .unknown(type: "reload", id: 6),
        .unknown(type: "notice", id: nil),
    ])
    func hostRoundTrip(_ message: HostMessage) throws {
        var decoder = FrameDecoder()
        decoder.append(Frame.encode(message.json))
        let object = try #require(try decoder.nextObject())
        #expect(try HostMessage(json: object) == message)
        // The frame written member by member holds the same object.
        decoder.append(message.frame)
        #expect(try decoder.nextObject().map(JSONValue.object) == message.json)
    }

    @Test("messages encode the members the protocol names")
    func encodedMembers() {
        #expect(HostMessage.call(id: 3, photon: "p", method: "m", params: nil).json
            == ["type": "call", "id": 3, "photon": "p", "method": "m", "params": nil])
        #expect(WorkerMessage.error(id: 7, ReplyError(.unsupported, "no")).json
            == ["type": "error", "id": 7, "code": "unsupported", "message": "no"])
        #expect(WorkerMessage.hello(Hello(pid: 1, photons: [PhotonDescriptor(name: "p")])).json
            == ["type": "hello", "protocol": 1, "pid": 1, "photons": [["name": "p", "kinds": []]]])
    }

    @Test("known metadata members win over extra members of the same name")
    func metadataPrecedence() throws {
        let metadata = PhotonMetadata(author: "Ada", extra: ["author": "Eve", "tags": "x"])
        let hello = Hello(pid: 1, photons: [PhotonDescriptor(name: "p", metadata: metadata)])
        let json = WorkerMessage.hello(hello).json
        #expect(json["photons"]?[0]?["metadata"] == ["author": "Ada"])
        let shadowOnly = Hello(pid: 1, photons: [PhotonDescriptor(name: "p", metadata: PhotonMetadata(extra: ["tags": "x"]))])
        #expect(WorkerMessage.hello(shadowOnly).json["photons"]?[0] == ["name": "p", "kinds": []])
    }

    @Test("fault details name the message and the member")
    func faultDetails() {
        #expect(decodeFault { _ = try HostMessage(json: ["type": "call", "photon": "p", "method": "m"]) }
            == ProtocolFault(.invalidMessage, "call is missing integer member 'id'"))
        #expect(decodeFault { _ = try HostMessage(json: ["type": "ping", "id": "4"]) }
            == ProtocolFault(.invalidMessage, "ping member 'id' must be an integer in 1...9007199254740991"))
        #expect(decodeFault { _ = try WorkerMessage(json: ["id": 1]) }
            == ProtocolFault(.invalidMessage, "message is missing string member 'type'"))
        #expect(decodeFault { _ = try WorkerMessage(json: ["type": "progress"]) }
            == ProtocolFault(.invalidMessage, "member 'type' is \"progress\", not a worker message type"))
        #expect(decodeFault { _ = try WorkerMessage(json: ["type": "result", "id": 1]) }
            == ProtocolFault(.invalidMessage, "result is missing member 'value'"))
        #expect(decodeFault { _ = try WorkerMessage(json: ["type": "hello", "protocol": 1, "pid": 2, "photons": [["name": "p", "kinds": [1]]]]) }
            == ProtocolFault(.invalidMessage, "hello photon 0 member 'kinds' must be an array of strings"))
        #expect(decodeFault { _ = try WorkerMessage(json: ["type": "hello", "protocol": 1, "pid": 2, "photons": [["name": "p", "kinds": [], "metadata": ["tags": [1]]]]]) }
            == ProtocolFault(.invalidMessage, "hello photon 0 metadata member 'tags' must be an array of strings"))
    }

    @Test("error codes and reply errors")
    func replyErrors() {
        #expect(ReplyError(.invalidParams, "bad", data: 1) == ReplyError(code: "invalid_params", message: "bad", data: 1))
        #expect([ErrorCode.unknownPhoton, .unknownMethod, .invalidParams, .photonError, .unsupported].map(\.rawValue)
            == ["unknown_photon", "unknown_method", "invalid_params", "photon_error", "unsupported"])
        #expect(ReplyError(.photonError, "x").data == nil)
    }

    @Test("photon names follow [A-Za-z0-9][A-Za-z0-9._-]{0,127}")
    func photonNames() {
        for valid in ["a", "Z", "0", "greeter", "my.photon_v2-beta", String(repeating: "x", count: 128)] {
            #expect(PhotonDescriptor.isValidName(valid), "\(valid)")
        }
        for invalid in ["", ".hidden", "-x", "_x", "has space", "é", "a/b", "a\0", String(repeating: "x", count: 129)] {
            #expect(!PhotonDescriptor.isValidName(invalid), "\(invalid)")
        }
    }

    @Test("protocol version constants")
    func versions() {
        #expect(WireProtocol.version == 1)
        #expect(WireProtocol.supportedVersions == [1])
        #expect(WireProtocol.supportedVersions.contains(WireProtocol.version))
        #expect(WireProtocol.maxRequestID == 9_007_199_254_740_991)
    }
}
