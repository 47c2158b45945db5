import LuminalWire

// libFuzzer target: the frame decoder (PROTOCOL.md §2). The first input byte sets where the
// stream is split into reads; the rest is the stream. Delivered whole and delivered in pieces,
// it must decode to the same payloads and the same fault (the vectors' rule), and nothing traps.

/// What a stream decodes to: its payloads, then the fault kind or nil.
struct Decoded: Equatable {
    var payloads: [[String: JSONValue]] = []
    var fault: ProtocolFault.Kind?
}

func decode(_ stream: ArraySlice<UInt8>, pieceSize: Int, cap: Int) -> Decoded {
    var decoder = FrameDecoder(cap: cap)
    var decoded = Decoded()
    var offset = stream.startIndex
    do throws(ProtocolFault) {
        while offset < stream.endIndex {
            let end = min(offset + pieceSize, stream.endIndex)
            decoder.append(Array(stream[offset..<end]))
            offset = end
            while let object = try decoder.nextObject() { decoded.payloads.append(object) }
        }
        try decoder.finish()
    } catch {
        decoded.fault = error.kind
    }
    return decoded
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrameDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let stream = bytes.dropFirst()
    let cap = 4096
    let whole = decode(stream, pieceSize: max(stream.count, 1), cap: cap)
    let pieces = decode(stream, pieceSize: Int(bytes[0] % 16) + 1, cap: cap)
    precondition(whole == pieces, "whole: \(whole), in pieces of \(bytes[0] % 16 + 1): \(pieces)")
    return 0
}
