import LuminalWire
import Testing

/// One vector of `protocol/vectors/frames.json`.
struct FrameVector: Sendable, CustomTestStringConvertible {
    let name: String
    let stream: [UInt8]
    let cap: Int
    let endOfStream: Bool
    let payloads: [JSONValue]
    let fault: ProtocolFault.Kind?

    var testDescription: String { name }

    static func all() throws -> [FrameVector] {
        let document = try VectorFiles.document("frames.json")
        guard let defaultCap = document["cap"]?.intValue else { throw VectorFiles.LoadError(description: "frames.json: no cap") }
        return try VectorFiles.vectors("frames.json").map { vector in
            guard let name = vector["name"]?.stringValue,
                  let hex = vector["hex"]?.stringValue,
                  let endOfStream = vector["eof"]?.boolValue,
                  let payloads = vector["expect"]?["payloads"]?.arrayValue else {
                throw VectorFiles.LoadError(description: "frames.json: malformed vector \(JSONValue.object(vector))")
            }
            var fault: ProtocolFault.Kind?
            if let faultText = vector["expect"]?["fault"] {
                guard let kind = faultText.stringValue.flatMap(ProtocolFault.Kind.init(rawValue:)) else {
                    throw VectorFiles.LoadError(description: "frames.json: \(name): unknown fault \(faultText)")
                }
                fault = kind
            }
            return FrameVector(
                name: name,
                stream: try VectorFiles.bytes(hex: hex),
                cap: Int(vector["cap"]?.intValue ?? defaultCap),
                endOfStream: endOfStream,
                payloads: payloads,
                fault: fault
            )
        }
    }

    /// Feeds the stream in chunks of `chunkSize` bytes; returns the decoded objects and the fault, if any.
    func run(chunkSize: Int) -> (payloads: [JSONValue], fault: ProtocolFault?) {
        var decoder = FrameDecoder(cap: cap)
        var decoded: [JSONValue] = []
        do throws(ProtocolFault) {
            var offset = 0
            repeat {
                let end = min(offset + chunkSize, stream.count)
                stream[offset..<end].withUnsafeBytes { decoder.append($0) }
                offset = end
                while let object = try decoder.nextObject() {
                    decoded.append(.object(object))
                }
            } while offset < stream.count
            if endOfStream {
                try decoder.finish()
            }
        } catch {
            return (decoded, error)
        }
        return (decoded, nil)
    }
}

@Suite("frames.json vectors")
struct FrameVectorTests {
    @Test("the vector file holds the documented coverage")
    func coverage() throws {
        let vectors = try FrameVector.all()
        #expect(vectors.count >= 40)
        #expect(Set(vectors.map(\.name)).count == vectors.count, "vector names are unique")
        let kinds = Set(vectors.compactMap(\.fault))
        let frameKinds: Set<ProtocolFault.Kind> = [.badFrameLength, .oversizeFrame, .truncatedFrame, .invalidUTF8, .invalidJSON]
        #expect(kinds == frameKinds)
    }

    @Test("stream delivered at once", arguments: try FrameVector.all())
    func wholeStream(_ vector: FrameVector) {
        let outcome = vector.run(chunkSize: max(vector.stream.count, 1))
        #expect(outcome.payloads == vector.payloads)
        #expect(outcome.fault?.kind == vector.fault, "\(outcome.fault.map(String.init(describing:)) ?? "no fault")")
    }

    @Test("stream delivered byte by byte", arguments: try FrameVector.all())
    func byteByByte(_ vector: FrameVector) {
        let outcome = vector.run(chunkSize: 1)
        #expect(outcome.payloads == vector.payloads)
        #expect(outcome.fault?.kind == vector.fault, "\(outcome.fault.map(String.init(describing:)) ?? "no fault")")
    }
}
