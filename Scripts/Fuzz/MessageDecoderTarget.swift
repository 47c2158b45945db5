import LuminalWire

// libFuzzer target: a payload through the JSON parser and both message decoders (PROTOCOL.md
// §2-3). Nothing may trap; what parses must survive writing and parsing again unchanged, and a
// message that decodes must decode again, equal, from the payload it writes.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMessageDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let payload = UnsafeRawBufferPointer(start: data, count: size)
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
