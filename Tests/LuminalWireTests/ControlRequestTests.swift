import LuminalWire
import Testing

/// Control requests and replies: the vectors in protocol/vectors/control.json, and round trips.
struct ControlRequestTests {
    @Test func everyControlVectorDecodesAsExpected() throws {
        let vectors = try VectorFiles.vectors("control.json")
        #expect(vectors.count >= 20)
        for vector in vectors {
            let name = vector["name"]?.stringValue ?? "?"
            let request = try #require(vector["request"]?.objectValue, "\(name): no request object")
            let expect = try #require(vector["expect"]?.objectValue, "\(name): no expect object")
            do {
                let decoded = try ControlRequest(object: request)
                #expect(decoded.json == expect["valid"], "\(name)")
            } catch {
                let fault = try #require(expect["fault"]?.stringValue, "\(name): unexpected fault \(error)")
                #expect(error.kind == .invalidMessage, "\(name)")
                #expect(error.detail.contains(fault), "\(name): \(error.detail)")
            }
        }
    }

    @Test func everyReplyVectorDecodesAsExpected() throws {
        let replies = try #require(try VectorFiles.document("control.json")["replies"]?.arrayValue)
        #expect(Set(replies.compactMap { $0["expect"]?["code"]?.stringValue }) == Set(ControlReply.Code.allCases.map(\.rawValue)))
        for vector in replies {
            let name = vector["name"]?.stringValue ?? "?"
            let reply = try #require(vector["reply"]?.objectValue, "\(name): no reply object")
            let expect = try #require(vector["expect"]?.objectValue, "\(name): no expect object")
            do {
                switch try ControlReply(object: reply) {
                case .success: #expect(expect["ok"] == true, "\(name)")
                case .item: #expect(expect["item"] == true, "\(name)")
                case .failure(let failure): #expect(expect["code"]?.stringValue == failure.code.rawValue, "\(name)")
                }
            } catch {
                let fault = try #require(expect["fault"]?.stringValue, "\(name): unexpected fault \(error)")
                #expect(error.detail.contains(fault), "\(name): \(error.detail)")
            }
        }
    }

    @Test func repliesRoundTrip() throws {
        let replies: [ControlReply] = [
            .success(["a": 1]), .success(nil), .item("line"),
            .failure(.init(.rolledBack, "reload of /p rolled back", details: ["step": "handshake"])),
        ]
        for reply in replies {
            #expect(try ControlReply(object: reply.json.objectValue!) == reply)
        }
        #expect(throws: ProtocolFault.self) { try ControlReply(object: ["ok": false]) }
        #expect(throws: ProtocolFault.self) { try ControlReply(object: ["ok": false, "error": ["code": "nope", "message": "m"]]) }
    }
}
