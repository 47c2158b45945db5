/// The top level of a frame of one of the messages every call exchanges (call, result, error,
/// part, ping, pong, cancel, credit, host result), read in one pass over the payload's bytes: no
/// `String` for a member's name, no list of members to search, a `JSONValue` built only for
/// `params`, `value` and `data`.
///
/// The scan reads only the shape those frames have: one object whose members are all among
/// `Member`, each once, with names written without escapes. Anything else (another member, a
/// repeated one, a value of the wrong type, bytes that are not JSON or not UTF-8) makes it give up,
/// and the frame is read by the general parse (`JSONParser.parseObjectDocument` and
/// `init(members:)`), which accepts it or names what is wrong. So a message the scan builds is
/// always the one the general parse builds from the same bytes. A frame it gives up on late (an
/// unknown member after a large value) is parsed twice: at most twice the work of one parse.
struct MessageScan {
    /// The members the scan reads.
    enum Member: Int, CaseIterable {
        case type, id, photon, method, params, deadline, stream, value, parts, code, message, data

        /// The member's name in the frame.
        var name: StaticString {
            switch self {
            case .type: "type"
            case .id: "id"
            case .photon: "photon"
            case .method: "method"
            case .params: "params"
            case .deadline: "deadline_ms"
            case .stream: "stream"
            case .value: "value"
            case .parts: "parts"
            case .code: "code"
            case .message: "message"
            case .data: "data"
            }
        }
    }

    /// The payload.
    private let bytes: UnsafeBufferPointer<UInt8>
    /// Which members came (a bit per `Member`).
    private var seen = 0
    /// Where the `type` string's bytes are.
    private var typeBytes = 0..<0
    /// The integer members that came; `id` is any whole number (`requestID` checks its range).
    private(set) var id, deadline, stream, parts: Int64?
    /// The string members that came.
    private(set) var photon, method, code, message: String?
    /// The members of any type that came.
    private(set) var params, value, data: JSONValue?

    /// The scan of a payload read by `parser` from its start; nil where the general parse must
    /// read it.
    init?(_ parser: inout JSONParser) {
        bytes = parser.bytes
        guard UTF8Validation.firstInvalidOffset(in: bytes) == nil else { return nil }
        do throws(ProtocolFault) {
            guard try readObject(&parser) else { return nil }
        } catch {
            return nil
        }
    }

    /// Whether the message's type is `name`.
    func isType(_ name: StaticString) -> Bool {
        matches(typeBytes, name)
    }

    /// The request id, if it came and is one (1...2^53−1).
    var requestID: Int64? {
        guard let id, (1...WireProtocol.maxRequestID).contains(id) else { return nil }
        return id
    }

    /// Reads the object: false at the first thing the scan does not take.
    private mutating func readObject(_ parser: inout JSONParser) throws(ProtocolFault) -> Bool {
        parser.skipWhitespace()
        guard parser.index < bytes.count, bytes[parser.index] == UInt8(ascii: "{") else { return false }
        parser.index += 1
        parser.skipWhitespace()
        while true {
            guard let member = readName(&parser) else { return false }
            let bit = 1 << member.rawValue
            guard seen & bit == 0, try readValue(of: member, &parser) else { return false }
            seen |= bit
            parser.skipWhitespace()
            guard parser.index < bytes.count else { return false }
            switch bytes[parser.index] {
            case UInt8(ascii: ","):
                parser.index += 1
                parser.skipWhitespace()
            case UInt8(ascii: "}"):
                parser.index += 1
                parser.skipWhitespace()
                return parser.index == bytes.count
            default:
                return false
            }
        }
    }

    /// Reads `"name":` for one of `Member`; nil for any other name, or one with escapes.
    private func readName(_ parser: inout JSONParser) -> Member? {
        guard let name = plainString(&parser), let member = member(named: name) else { return nil }
        parser.skipWhitespace()
        guard parser.index < bytes.count, bytes[parser.index] == UInt8(ascii: ":") else { return nil }
        parser.index += 1
        parser.skipWhitespace()
        return member
    }

    /// Reads the value of `member`: false if it is not of the member's type (`type` a string
    /// without escapes, kept as its bytes; `id`, `deadline_ms`, `stream` and `parts` whole
    /// numbers; `photon`, `method`, `code` and `message` strings; the others any value).
    private mutating func readValue(of member: Member, _ parser: inout JSONParser) throws(ProtocolFault) -> Bool {
        switch member {
        case .type:
            guard let type = plainString(&parser) else { return false }
            typeBytes = type
            return true
        case .id: return try Self.integer(&parser, into: &id)
        case .deadline: return try Self.integer(&parser, into: &deadline)
        case .stream: return try Self.integer(&parser, into: &stream)
        case .parts: return try Self.integer(&parser, into: &parts)
        case .photon: return try Self.string(&parser, into: &photon)
        case .method: return try Self.string(&parser, into: &method)
        case .code: return try Self.string(&parser, into: &code)
        case .message: return try Self.string(&parser, into: &message)
        case .params: params = try parser.parseValue(depth: 1)
        case .value: value = try parser.parseValue(depth: 1)
        case .data: data = try parser.parseValue(depth: 1)
        }
        return true
    }

    /// Reads a whole number into `slot`: false for any other value.
    private static func integer(_ parser: inout JSONParser, into slot: inout Int64?) throws(ProtocolFault) -> Bool {
        guard parser.index < parser.bytes.count, parser.bytes[parser.index] != UInt8(ascii: "\"") else { return false }
        slot = try parser.parseValue(depth: 1).intValue
        return slot != nil
    }

    /// Reads a string into `slot`: false for any other value.
    private static func string(_ parser: inout JSONParser, into slot: inout String?) throws(ProtocolFault) -> Bool {
        guard parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: "\"") else { return false }
        parser.index += 1
        slot = try parser.parseStringBody()
        return true
    }

    /// Reads a string written without escapes, whose opening quote is at the parser's index:
    /// where its bytes are, or nil (and the index unmoved) if there is none.
    private func plainString(_ parser: inout JSONParser) -> Range<Int>? {
        guard parser.index < bytes.count, bytes[parser.index] == UInt8(ascii: "\"") else { return nil }
        let start = parser.index + 1
        let end = JSONPlainRun.end(in: bytes, from: start)
        guard end < bytes.count, bytes[end] == UInt8(ascii: "\"") else { return nil }
        parser.index = end + 1
        return start..<end
    }

    /// The member whose name is the payload's bytes in `range`, if one is: only the members
    /// whose names have that length are compared.
    private func member(named range: Range<Int>) -> Member? {
        guard range.count < Self.membersByLength.count else { return nil }
        return Self.membersByLength[range.count].first { matches(range, $0.name) }
    }

    /// The members by the length of their names.
    private static let membersByLength: [[Member]] = {
        let longest = Member.allCases.map(\.name.utf8CodeUnitCount).max() ?? 0
        return (0...longest).map { length in Member.allCases.filter { $0.name.utf8CodeUnitCount == length } }
    }()

    /// Whether the payload's bytes in `range` are `name`.
    private func matches(_ range: Range<Int>, _ name: StaticString) -> Bool {
        guard range.count == name.utf8CodeUnitCount else { return false }
        var offset = range.lowerBound
        for byte in UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount) {
            guard bytes[offset] == byte else { return false }
            offset += 1
        }
        return true
    }
}

extension HostMessage {
    /// The message `scan` read, if it is a call, ping, cancel, credit or host result the
    /// general parse would accept as it is; nil for the general parse to read.
    init?(_ scan: MessageScan) {
        guard let id = scan.requestID else { return nil }
        if scan.isType("call") {
            guard let photon = scan.photon, let method = scan.method, (scan.deadline ?? 0) >= 0, (scan.stream ?? 1) >= 1 else { return nil }
            self = .call(id: id, photon: photon, method: method, params: scan.params ?? .null, deadline: scan.deadline, stream: scan.stream)
        } else if scan.isType("ping") {
            self = .ping(id: id)
        } else if scan.isType("cancel") {
            self = .cancel(id: id)
        } else if scan.isType("credit") {
            guard let parts = scan.parts, parts >= 1 else { return nil }
            self = .credit(id: id, parts: parts)
        } else if scan.isType("host_result") {
            guard let value = scan.value else { return nil }
            self = .hostResult(id: id, value: value)
        } else {
            return nil
        }
    }
}

extension WorkerMessage {
    /// The message `scan` read, if it is a result, error, part or pong the general parse would
    /// accept as it is; nil for the general parse to read.
    init?(_ scan: MessageScan) {
        guard let id = scan.requestID else { return nil }
        if scan.isType("result") {
            guard let value = scan.value else { return nil }
            self = .result(id: id, value: value)
        } else if scan.isType("error") {
            guard let code = scan.code, let message = scan.message else { return nil }
            self = .error(id: id, ReplyError(code: code, message: message, data: scan.data))
        } else if scan.isType("part") {
            guard let value = scan.value else { return nil }
            self = .part(id: id, value: value)
        } else if scan.isType("pong") {
            self = .pong(id: id)
        } else {
            return nil
        }
    }
}
