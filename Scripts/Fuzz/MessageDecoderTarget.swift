import LuminalWire

// libFuzzer target: a payload through the JSON parser and both message decoders (PROTOCOL.md
// §2-3). Nothing may trap; what parses must survive writing and parsing again unchanged, a frame's
// object read as its members must be what the whole parser gives (the same members or the same
// fault), a frame read as a message through the scan (`nextHostMessage`, `nextWorkerMessage`)
// must be what its members give (the same message or the same fault), and a message that decodes
// must decode again, equal, from the payload it writes.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMessageDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let payload = UnsafeRawBufferPointer(start: data, count: size)
    if size >= 2 {
        checkMembersAgree(payload)
        checkScanAgrees(payload, { decoder throws(ProtocolFault) in try decoder.nextHostMessage() }, HostMessage.init(members:))
        checkScanAgrees(payload, { decoder throws(ProtocolFault) in try decoder.nextWorkerMessage() }, WorkerMessage.init(members:))
    }
    guard let value = try? JSONValue.parse(payload) else { return 0 }
    let written = value.serialized()
    precondition((try? JSONValue.parse(written)) == value, "\(value) written as \(String(decoding: written, as: UTF8.self)) does not parse back")
    guard let object = value.objectValue else { return 0 }
    if let message = try? WorkerMessage(json: object) {
        let again = message.json.objectValue.flatMap { try? WorkerMessage(json: $0) }
        precondition(again == message, "worker message \(message) does not decode again from \(message.json)")
    }
    if let message = try? HostMessage(json: object) {
        let again = message.json.objectValue.flatMap { try? HostMessage(json: $0) }
        precondition(again == message, "host message \(message) does not decode again from \(message.json)")
    }
    return 0
}

/// Reading `payload` as a frame's members gives what the whole parser gives.
private func checkMembersAgree(_ payload: UnsafeRawBufferPointer) {
    let whole = Result { () throws(ProtocolFault) -> [String: JSONValue] in
        guard case .object(let members) = try JSONValue.parse(payload) else { throw ProtocolFault(.invalidJSON, "top level is not an object") }
        return members
    }
    var decoder = FrameDecoder(cap: payload.count)
    decoder.append(Frame.encode(payload))
    let members = Result { () throws(ProtocolFault) in try decoder.nextMembers()?.dictionary ?? [:] }
    precondition(members == whole, "members \(members) differ from the whole parse \(whole)")
}

/// Reading `payload` as a message through `next` gives what its members give through `general`.
private func checkScanAgrees<Message: Equatable>(_ payload: UnsafeRawBufferPointer, _ next: (inout FrameDecoder) throws(ProtocolFault) -> Message?,
                                                 _ general: (JSONMembers) throws(ProtocolFault) -> Message) {
    var scanning = FrameDecoder(cap: payload.count), parsing = FrameDecoder(cap: payload.count)
    scanning.append(Frame.encode(payload))
    parsing.append(Frame.encode(payload))
    let scanned = Result { () throws(ProtocolFault) in try next(&scanning) }
    let parsed = Result { () throws(ProtocolFault) in try parsing.nextMembers().map(general) }
    precondition(scanned == parsed, "the scan read \(scanned), the general parse \(parsed)")
}
