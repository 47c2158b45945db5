import LuminalTestKit
import LuminalWire
import Testing

/// What reading `json` as a frame gives: through `next` (the scan, then the general parse), and
/// through the general parse alone (`nextMembers()` and `general`). The two must be equal: the
/// same message or the same fault.
private func bothWays<Message: Equatable>(_ json: [UInt8], _ next: (inout FrameDecoder) throws(ProtocolFault) -> Message?,
                                         _ general: (JSONMembers) throws(ProtocolFault) -> Message) -> (scanned: Result<Message?, ProtocolFault>, general: Result<Message?, ProtocolFault>) {
    var scanning = FrameDecoder(), parsing = FrameDecoder()
    scanning.append(Frame.encode(json))
    parsing.append(Frame.encode(json))
    let scanned = Result { () throws(ProtocolFault) in try next(&scanning) }
    let parsed = Result { () throws(ProtocolFault) in try parsing.nextMembers().map(general) }
    return (scanned, parsed)
}

/// Whether `json` reads the same both ways, as a host message and as a worker message.
private func agrees(_ json: [UInt8]) -> Bool {
    let host = bothWays(json, { decoder throws(ProtocolFault) in try decoder.nextHostMessage() }, HostMessage.init(members:))
    let worker = bothWays(json, { decoder throws(ProtocolFault) in try decoder.nextWorkerMessage() }, WorkerMessage.init(members:))
    return host.scanned == host.general && worker.scanned == worker.general
}

/// The frames of every call, written as Luminal and the runtimes write them.
private let callFrames: [String] = [
    #"{"type":"call","id":7,"photon":"greeter","method":"greet","params":{"who":"Ada","n":[1,2.5,null,true]},"deadline_ms":60000}"#,
    #"{"type":"call","id":9,"photon":"p","method":"m","params":null,"stream":16}"#,
    #"{"type":"result","id":7,"value":{"greeting":"héllo \"Ada\"\n"}}"#,
    #"{"type":"error","id":7,"code":"photonError","message":"boom","data":{"line":3}}"#,
    #"{"type":"part","id":9,"value":"chunk"}"#,
    #"{"type":"pong","id":3}"#,
    #"{"type":"ping","id":3}"#,
    #"{"type":"cancel","id":7}"#,
    #"{"type":"credit","id":9,"parts":4}"#,
    #"{"type":"host_result","id":2,"value":[1,{"a":"b"}]}"#,
]

@Suite("Message scan")
struct MessageScanTests {
    @Test("the frames of every call decode through the scan as through the general parse")
    func commonFrames() throws {
        for json in callFrames {
            #expect(agrees(Array(json.utf8)), "\(json)")
        }
        var decoder = FrameDecoder()
        decoder.append(Frame.encode(Array(callFrames[0].utf8)))
        #expect(try decoder.nextHostMessage() == .call(id: 7, photon: "greeter", method: "greet",
                                                      params: ["who": "Ada", "n": [1, 2.5, nil, true]], deadline: 60000, stream: nil))
    }

    @Test("frames of other shapes read the same as through the general parse, faults included", arguments: [
        #"{ "type" : "call" , "id" : 7 , "photon" : "p" , "method" : "m" }"#,
        #"{"type":"call","id":7,"photon":"p","method":"m","extra":1}"#,
        #"{"type":"call","id":7,"photon":"p","method":"m","id":8}"#,
        #"{"type":"call","id":7,"photon":"p","photon":"q","method":"m"}"#,
        #"{"typ\u0065":"call","id":7,"photon":"p","method":"m"}"#,
        #"{"type":"c\u0061ll","id":7,"photon":"p","method":"m"}"#,
        #"{"type":"call","id":7,"photon":"p\u00e9","method":"m"}"#,
        #"{"type":"call","id":7.0,"photon":"p","method":"m"}"#,
        #"{"type":"call","id":0,"photon":"p","method":"m"}"#,
        #"{"type":"call","id":9007199254740992,"photon":"p","method":"m"}"#,
        #"{"type":"call","id":-1,"photon":"p","method":"m"}"#,
        #"{"type":"call","id":"7","photon":"p","method":"m"}"#,
        #"{"type":"call","id":null,"photon":"p","method":"m"}"#,
        #"{"type":"call","id":7,"photon":1,"method":"m"}"#,
        #"{"type":"call","id":7,"method":"m"}"#,
        #"{"type":"call","id":7,"photon":"p","method":"m","deadline_ms":-1}"#,
        #"{"type":"call","id":7,"photon":"p","method":"m","deadline_ms":null}"#,
        #"{"type":"call","id":7,"photon":"p","method":"m","deadline_ms":1.5}"#,
        #"{"type":"call","id":7,"photon":"p","method":"m","stream":0}"#,
        #"{"type":"call","id":7,"photon":"p","method":"m","params":{"a":1,"a":2}}"#,
        #"{"type":"call","id":7,"photon":"p","method":"m","params":[[[[[]]]]]}"#,
        #"{"type":"call","id":7,"photon":"p","method":"m"} x"#,
        #"{"type":"call","id":7,"photon":"p","method":"m""#,
        #"[{"type":"call","id":7}]"#,
        #"{"type":"result","id":7}"#,
        #"{"type":"result","id":7,"value":null}"#,
        #"{"type":"error","id":7,"code":"x"}"#,
        #"{"type":"error","id":7,"code":"x","message":"y","data":null}"#,
        #"{"type":"credit","id":7,"parts":0}"#,
        #"{"type":"credit","id":7,"parts":1e3}"#,
        #"{"type":"pong","id":7,"value":1}"#,
        #"{"type":"shutdown"}"#,
        #"{"type":"start","id":1,"photon":"p"}"#,
        #"{"type":"hello","protocol":1,"pid":7,"photons":[]}"#,
        #"{"type":"launch","id":4}"#,
        #"{"type":7,"id":4}"#,
        #"{}"#,
    ])
    func otherShapes(_ json: String) {
        #expect(agrees(Array(json.utf8)))
    }

    @Test("bytes that are not UTF-8 are refused as by the general parse")
    func invalidUTF8() {
        var json = Array(#"{"type":"call","id":7,"photon":"pX","method":"m"}"#.utf8)
        json[json.firstIndex(of: UInt8(ascii: "X"))!] = 0xFF
        #expect(agrees(json))
    }

    @Test("frames of every call with random bytes changed read the same both ways")
    func mutatedFrames() {
        var random = SplitMix(seed: 0x5CA7)
        let alphabet = Array(#"{}[]":,\ 0123456789-.eE+truefalsnl"#.utf8) + [0x00, 0x0A, 0x80, 0xC3, 0xA9, 0xFF]
        var disagreements: [String] = []
        for round in 0..<20_000 {
            var json = Array(callFrames[round % callFrames.count].utf8)
            for _ in 0...Int.random(in: 0..<3, using: &random) {
                let at = Int.random(in: 0..<json.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: json[at] = alphabet.randomElement(using: &random)!
                case 1: json.remove(at: at)
                default: json.insert(alphabet.randomElement(using: &random)!, at: at)
                }
                if json.isEmpty { json = [UInt8(ascii: "{")] }
            }
            if !agrees(json) { disagreements.append(String(decoding: json, as: UTF8.self)) }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
    }
}
