extension JSONParser {
    /// Objects with more members than this find duplicate keys with a hash set rather than by
    /// comparing each new key with the ones before it.
    private static let membersScannedForDuplicates = 16
    /// Room made for a top-level object's members at once: a message has a handful (a call
    /// has up to 7), so the array is not grown member by member.
    private static let membersReserved = 8

    /// Parses the whole input as one JSON object, optionally surrounded by whitespace, into its
    /// members, without a hash table for the top level. The faults are those `parseDocument`
    /// throws for the same input; valid JSON that is not an object throws invalidJSON "top
    /// level is not an object".
    mutating func parseObjectDocument() throws(ProtocolFault) -> JSONMembers {
        if let offset = UTF8Validation.firstInvalidOffset(in: bytes) {
            throw ProtocolFault(.invalidUTF8, "ill-formed sequence at byte offset \(offset)")
        }
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else {
            // Not an object: the whole parse names what is wrong, if anything is.
            _ = try parseDocument()
            throw ProtocolFault(.invalidJSON, "top level is not an object")
        }
        try checkDepth(1)
        index += 1
        skipWhitespace()
        var members = JSONMembers(reservingCapacity: Self.membersReserved)
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
        } else {
            var seen: Set<String>?
            readMember: while true {
                let key = try parseKey()
                let value = try parseValue(depth: 1)
                skipWhitespace()
                if members.count >= Self.membersScannedForDuplicates, seen == nil { seen = Set(members.pairs.map(\.key)) }
                guard seen?.insert(key).inserted ?? (members[key] == nil) else {
                    throw ProtocolFault(.invalidJSON, "duplicate key \(JSONValue.string(key)) in object, before byte offset \(index)")
                }
                members.append(key, value)
                guard index < bytes.count else { throw endOfInput("expected ',' or '}'") }
                switch bytes[index] {
                case UInt8(ascii: ","):
                    index += 1
                    skipWhitespace()
                case UInt8(ascii: "}"):
                    index += 1
                    break readMember
                default:
                    throw unexpectedByte("where ',' or '}' was expected")
                }
            }
        }
        skipWhitespace()
        guard index == bytes.count else { throw unexpectedByte("after the top-level value") }
        return members
    }
}
