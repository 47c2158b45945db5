import LuminalWire
import Testing

/// The fault a decoder step throws, if any.
private func fault(_ body: () throws -> Void) -> ProtocolFault? {
    do {
        try body()
        return nil
    } catch {
        return error as? ProtocolFault ?? ProtocolFault(.invalidMessage, "unexpected error \(error)")
    }
}

@Suite("Frame encoding and decoding")
struct FrameTests {
    @Test("the header is the big-endian payload length")
    func header() {
        let payload = [UInt8](repeating: 0x20, count: 0x01_02_03)
        let frame = Frame.encode(payload)
        #expect(frame.count == Frame.headerSize + payload.count)
        #expect(Array(frame.prefix(4)) == [0x00, 0x01, 0x02, 0x03])
        #expect(Array(frame.dropFirst(4)) == payload)
        #expect(Frame.encode(Array("{}".utf8)) == [0, 0, 0, 2, 0x7B, 0x7D])
        #expect(Frame.defaultCap == 16_777_216)
    }

    @Test("encoding a value equals encoding its serialized bytes")
    func encodeValue() {
        let value: JSONValue = ["type": "call", "id": 3, "params": ["who": "Ada", "n": [1, 2.5, nil]]]
        #expect(Frame.encode(value) == Frame.encode(value.serialized()))
        #expect(Frame.encode(value[0] ?? nil) == [0, 0, 0, 4] + Array("null".utf8))
    }

    @Test("an oversize length is thrown when only the 4 header bytes are buffered")
    func oversizeAtHeader() {
        var decoder = FrameDecoder(cap: 1024)
        decoder.append([0x00, 0x00, 0x04])
        #expect(fault { _ = try decoder.nextPayload() } == nil)
        decoder.append([0x01])
        #expect(decoder.bufferedByteCount == 4)
        let error = fault { _ = try decoder.nextPayload() }
        #expect(error == ProtocolFault(.oversizeFrame, "length 1025 exceeds the cap of 1024 bytes"))
        var objects = FrameDecoder()
        objects.append([0xFF, 0xFF, 0xFF, 0xFF])
        #expect(fault { _ = try objects.nextObject() }?.kind == .oversizeFrame)
    }

    @Test("a length below 2 is thrown when only the 4 header bytes are buffered")
    func badLengthAtHeader() {
        for length: UInt8 in [0, 1] {
            var decoder = FrameDecoder()
            decoder.append([0, 0, 0, length])
            #expect(fault { _ = try decoder.nextPayload() } == ProtocolFault(.badFrameLength, "length \(length) is below the minimum of 2"))
        }
    }

    @Test("a payload exactly at the cap is accepted")
    func payloadAtCap() throws {
        var decoder = FrameDecoder(cap: 2)
        decoder.append(Frame.encode(Array("{}".utf8)))
        #expect(try decoder.nextObject() == [:])
        #expect(decoder.cap == 2)
    }

    @Test("nextPayload returns raw bytes and keeps the rest buffered")
    func rawPayloads() throws {
        var decoder = FrameDecoder()
        let first = Array("not json".utf8)
        let stream = Frame.encode(first) + Frame.encode(Array("{}".utf8)) + [0, 0]
        stream.withUnsafeBytes { decoder.append($0) }
        #expect(try decoder.nextPayload() == first)
        #expect(try decoder.nextPayload() == Array("{}".utf8))
        #expect(try decoder.nextPayload() == nil)
        #expect(decoder.bufferedByteCount == 2)
    }

    @Test("a non-object payload is invalid JSON")
    func nonObject() {
        var decoder = FrameDecoder()
        decoder.append(Frame.encode(Array("[]".utf8)))
        #expect(fault { _ = try decoder.nextObject() } == ProtocolFault(.invalidJSON, "top level is not an object"))
    }

    @Test("end of stream between frames is clean, inside a frame is truncation")
    func finish() throws {
        var decoder = FrameDecoder()
        #expect(fault { try decoder.finish() } == nil)
        decoder.append(Frame.encode(Array("{}".utf8)))
        _ = try decoder.nextObject()
        #expect(fault { try decoder.finish() } == nil)
        decoder.append([0, 0, 0])
        #expect(fault { try decoder.finish() } == ProtocolFault(.truncatedFrame, "end of stream after 3 of 4 length bytes"))
        decoder.append([5, 0x7B])
        #expect(try decoder.nextObject() == nil)
        #expect(fault { try decoder.finish() } == ProtocolFault(.truncatedFrame, "end of stream after 1 of 5 payload bytes"))
    }

    @Test("many frames in uneven chunks decode in order")
    func chunkedStream() throws {
        var stream: [UInt8] = []
        let count = 5000
        for id in 1...count {
            stream += Frame.encode(["type": "ping", "id": .int(Int64(id)), "pad": .string(String(repeating: "x", count: id % 97))])
        }
        var decoder = FrameDecoder()
        var next: Int64 = 1
        var offset = 0
        var chunk = 1
        while offset < stream.count {
            let end = min(offset + chunk, stream.count)
            decoder.append(Array(stream[offset..<end]))
            offset = end
            chunk = chunk * 7 % 1531 + 1
            while let object = try decoder.nextObject() {
                #expect(object["id"] == .int(next))
                next += 1
            }
        }
        #expect(next == Int64(count) + 1)
        #expect(decoder.bufferedByteCount == 0)
        try decoder.finish()
    }

    @Test("fault kinds carry the reason-text prefixes of the protocol")
    func faultKinds() {
        #expect(ProtocolFault.Kind.allCases.map(\.rawValue) == [
            "bad frame length", "oversize frame", "truncated frame", "invalid UTF-8", "invalid JSON",
            "invalid message", "out-of-order hello", "unknown reply id", "closed protocol pipe",
        ])
        #expect(ProtocolFault(.closedProtocolPipe, "fd 4 closed").description == "closed protocol pipe: fd 4 closed")
    }
}
