import LuminalWire

// libFuzzer target: a payload as the control socket reads it (protocol/CONTROL.md). Nothing may
// trap; a request that decodes must decode again, equal, from the object it writes; a reply
// object a client reads must decode again, equal, from what it writes.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzControlRequest(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard let object = (try? JSONValue.parse(UnsafeRawBufferPointer(start: data, count: size)))?.objectValue else { return 0 }
    if let request = try? ControlRequest(object: object) {
        let again = request.json.objectValue.flatMap { try? ControlRequest(object: $0) }
        precondition(again == request, "control request \(request) does not decode again from \(request.json)")
    }
    if let reply = try? ControlReply(object: object) {
        let again = reply.json.objectValue.flatMap { try? ControlReply(object: $0) }
        precondition(again == reply, "control reply \(reply) does not decode again from \(reply.json)")
    }
    return 0
}
