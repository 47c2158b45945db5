import LuminalWire
import Testing

/// `protocol/vectors/held_sockets.json`: how a protocol worker finds the sockets its host holds.
@Suite struct HeldSocketVectors {
    @Test func everyVector() throws {
        let document = try VectorFiles.document("held_sockets.json")
        let ownPID = try #require(document["own_pid"]?.intValue)
        #expect(document["first_fd"]?.intValue == Int64(HeldSockets.firstFD))
        let items = try #require(document["vectors"]?.arrayValue)
        let vectors = items.compactMap { $0.objectValue }
        #expect(vectors.count >= 15)
        for vector in vectors {
            let name = vector["name"]?.stringValue ?? "?"
            let expected = (vector["expect"]?.arrayValue ?? []).map { pair in
                HeldSockets.Entry(name: pair.arrayValue?.first?.stringValue ?? "", fd: Int32(pair.arrayValue?.last?.intValue ?? -1))
            }
            let listed = HeldSockets.listed(count: vector["count"]?.stringValue, names: vector["names"]?.stringValue,
                                            pid: vector["pid"]?.stringValue, ownPID: Int32(ownPID))
            #expect(listed == expected, "\(name)")
        }
    }
}
