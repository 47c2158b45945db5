import LuminalWire
import Testing

/// A frame's top-level object read as members (no hash table) says exactly what the whole
/// parser says of the same payload: the same members, or the same fault.
@Suite("JSON members")
struct JSONMembersTests {
    /// What reading `payload` as members gives: its members as a dictionary, or the fault.
    private func asMembers(_ payload: [UInt8], maxDepth: Int) -> Result<[String: JSONValue], ProtocolFault> {
        var decoder = FrameDecoder(maxDepth: maxDepth)
        decoder.append(Frame.encode(payload))
        return Result { () throws(ProtocolFault) in
            guard let members = try decoder.nextMembers() else { throw ProtocolFault(.truncatedFrame, "no frame") }
            return members.dictionary
        }
    }

    /// What the whole parser gives for `payload`: its object, or the fault.
    private func asValue(_ payload: [UInt8], maxDepth: Int) -> Result<[String: JSONValue], ProtocolFault> {
        Result { () throws(ProtocolFault) in
            guard case .object(let members) = try JSONValue.parse(payload, maxDepth: maxDepth) else {
                throw ProtocolFault(.invalidJSON, "top level is not an object")
            }
            return members
        }
    }

    static let documents = [
        #"{"type":"call","id":7,"photon":"p","method":"m","params":{"who":"x","n":[1,2.5,null,true]}}"#,
        #" { "a" : { "a" : 1 } , "b" : [ { } , [ ] ] } "#,
        #"{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11,"l":12,"m":13,"n":14,"o":15,"p":16,"q":17,"a":18}"#,
        #"{"a":1,"b":{"c":2,"c":3}}"#,
        #"{"\u0061":1,"a":2}"#,
        #"{"s":"caf\u00e9 \ud83d\ude00 \n","e":""}"#,
        #"{}"#,
        #"[1,2]"#,
        #""text""#,
    ]

    /// Every document, each of its prefixes, and each one-byte change at every position (to a
    /// byte from a set that breaks JSON in every way), at two nesting limits.
    @Test(arguments: documents)
    func membersAgreeWithTheWholeParser(document: String) {
        let bytes = Array(document.utf8)
        var payloads = [bytes]
        for end in 2..<bytes.count { payloads.append(Array(bytes[..<end])) }
        let substitutes: [UInt8] = Array("{}[]\":, 0-1ne\\".utf8) + [0x00, 0xFF, 0xC3]
        for position in bytes.indices {
            for byte in substitutes where byte != bytes[position] {
                var changed = bytes
                changed[position] = byte
                payloads.append(changed)
            }
        }
        for payload in payloads {
            for maxDepth in [512, 2] {
                let members = asMembers(payload, maxDepth: maxDepth), value = asValue(payload, maxDepth: maxDepth)
                #expect(members == value, "\(String(decoding: payload, as: UTF8.self)) at depth \(maxDepth)")
            }
        }
    }

    /// Members keep the order they came in; a lookup finds each by name.
    @Test func membersKeepTheirOrderAndAreFoundByName() throws {
        var decoder = FrameDecoder()
        decoder.append(Frame.encode(Array(#"{"z":1,"a":"two","m":null}"#.utf8)))
        let members = try #require(try decoder.nextMembers())
        #expect(members.pairs.map(\.key) == ["z", "a", "m"])
        #expect(members["a"] == "two" && members["m"] == .null && members["q"] == nil)
    }

    /// A hostile frame of 200,000 top-level members, the protocol's own last, then the same with
    /// its last key repeating the first: duplicates are found by a hash set past a few members,
    /// so neither costs time quadratic in the members.
    @Test(.timeLimit(.minutes(1)))
    func aFrameOfManyMembersIsReadInLinearTime() throws {
        let many = (0..<200_000).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        var decoder = FrameDecoder(cap: 16 << 20)
        decoder.append(Frame.encode(Array("{\(many),\"type\":\"ping\",\"id\":3}".utf8)))
        let members = try #require(try decoder.nextMembers())
        #expect(try HostMessage(members: members) == .ping(id: 3))
        decoder.append(Frame.encode(Array("{\(many),\"k0\":1}".utf8)))
        #expect(throws: ProtocolFault.self) { try decoder.nextMembers() }
    }
}
