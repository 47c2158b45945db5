import LuminalWire
import Testing

/// `protocol/vectors/frame_cap.json`: how a worker reads `LUMINAL_FRAME_CAP`.
@Suite struct FrameCapVectors {
    @Test func everyVector() throws {
        let vectors = try VectorFiles.vectors("frame_cap.json")
        #expect(vectors.count >= 20)
        for vector in vectors {
            let name = vector["name"]?.stringValue ?? "?"
            #expect(Frame.cap(fromEnvironment: vector["value"]?.stringValue) == vector["expect"]?.intValue.map(Int.init), "\(name)")
        }
    }
}
