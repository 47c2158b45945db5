/// A strict RFC 8259 parser over a byte buffer.
///
/// The input is first checked to be well-formed UTF-8, then parsed iteratively (an explicit
/// stack of open containers, so nesting never grows the call stack).
struct JSONParser {
    /// An array or object whose members are still being read.
    fileprivate struct OpenContainer {
        let isObject: Bool
        var elements: [JSONValue] = []
        var members: [String: JSONValue] = [:]
        var pendingKey = ""
    }

    /// The input.
    let bytes: UnsafeBufferPointer<UInt8>
    private let maxDepth: Int
    /// The offset of the next byte to read.
    var index = 0
    /// Reused buffer for decoding strings that contain escapes.
    var scratch: [UInt8] = []
    /// The stack `parseValue` reuses, kept by a `FrameDecoder` from one frame to the next.
    var workspace = Workspace()

    /// The stack of containers a parser reuses: swapped out of one parser and into the next, it
    /// spares an allocation for every value that nests.
    struct Workspace: Sendable {
        /// The containers still open while `parseValue` runs (empty between values).
        fileprivate var stack: [OpenContainer] = []
    }

    /// A parser for `bytes` that rejects more than `maxDepth` nested arrays/objects.
    init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    /// Parses the whole input as exactly one JSON value, optionally surrounded by whitespace.
    mutating func parseDocument() throws(ProtocolFault) -> JSONValue {
        if let offset = UTF8Validation.firstInvalidOffset(in: bytes) {
            throw ProtocolFault(.invalidUTF8, "ill-formed sequence at byte offset \(offset)")
        }
        let value = try parseValue()
        skipWhitespace()
        guard index == bytes.count else {
            throw unexpectedByte("after the top-level value")
        }
        return value
    }

    /// Parses one value; containers are kept on an explicit stack. `depth` containers hold it
    /// already.
    mutating func parseValue(depth: Int = 0) throws(ProtocolFault) -> JSONValue {
        var stack: [OpenContainer] = []
        swap(&stack, &workspace.stack)
        defer {
            stack.removeAll(keepingCapacity: true)
            swap(&stack, &workspace.stack)
        }
        readValue: while true {
            skipWhitespace()
            guard index < bytes.count else { throw endOfInput("expected a value") }
            var value: JSONValue
            switch bytes[index] {
            case UInt8(ascii: "{"):
                try checkDepth(depth + stack.count + 1)
                index += 1
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    value = .object([:])
                } else {
                    stack.append(OpenContainer(isObject: true, pendingKey: try parseKey()))
                    continue readValue
                }
            case UInt8(ascii: "["):
                try checkDepth(depth + stack.count + 1)
                index += 1
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    value = .array([])
                } else {
                    stack.append(OpenContainer(isObject: false))
                    continue readValue
                }
            case UInt8(ascii: "\""):
                index += 1
                value = .string(try parseStringBody())
            case UInt8(ascii: "t"):
                try expectLiteral("true")
                value = .bool(true)
            case UInt8(ascii: "f"):
                try expectLiteral("false")
                value = .bool(false)
            case UInt8(ascii: "n"):
                try expectLiteral("null")
                value = .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                value = try parseNumber()
            default:
                throw unexpectedByte("where a value was expected")
            }
            while !stack.isEmpty {
                let top = stack.count - 1
                skipWhitespace()
                if stack[top].isObject {
                    let key = stack[top].pendingKey
                    if stack[top].members.updateValue(value, forKey: key) != nil {
                        throw ProtocolFault(.invalidJSON, "duplicate key \(JSONValue.string(key)) in object, before byte offset \(index)")
                    }
                    guard index < bytes.count else { throw endOfInput("expected ',' or '}'") }
                    switch bytes[index] {
                    case UInt8(ascii: ","):
                        index += 1
                        skipWhitespace()
                        stack[top].pendingKey = try parseKey()
                        continue readValue
                    case UInt8(ascii: "}"):
                        index += 1
                        value = .object(stack.removeLast().members)
                    default:
                        throw unexpectedByte("where ',' or '}' was expected")
                    }
                } else {
                    stack[top].elements.append(value)
                    guard index < bytes.count else { throw endOfInput("expected ',' or ']'") }
                    switch bytes[index] {
                    case UInt8(ascii: ","):
                        index += 1
                        continue readValue
                    case UInt8(ascii: "]"):
                        index += 1
                        value = .array(stack.removeLast().elements)
                    default:
                        throw unexpectedByte("where ',' or ']' was expected")
                    }
                }
            }
            return value
        }
    }

    /// Throws if `depth` nested containers exceed the limit.
    func checkDepth(_ depth: Int) throws(ProtocolFault) {
        if depth > maxDepth {
            throw ProtocolFault(.invalidJSON, "nesting deeper than \(maxDepth) at byte offset \(index)")
        }
    }

    /// Reads `"key"` and the following `:`; the index is at the opening quote.
    mutating func parseKey() throws(ProtocolFault) -> String {
        guard index < bytes.count else { throw endOfInput("expected a string key") }
        guard bytes[index] == UInt8(ascii: "\"") else { throw unexpectedByte("where a string key was expected") }
        index += 1
        let key = try parseStringBody()
        skipWhitespace()
        guard index < bytes.count else { throw endOfInput("expected ':'") }
        guard bytes[index] == UInt8(ascii: ":") else { throw unexpectedByte("where ':' was expected") }
        index += 1
        return key
    }

    /// Skips JSON whitespace.
    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    /// Consumes `literal` or throws.
    private mutating func expectLiteral(_ literal: StaticString) throws(ProtocolFault) {
        let text = UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        for expected in text {
            guard index < bytes.count else { throw endOfInput("in literal '\(literal)'") }
            guard bytes[index] == expected else { throw unexpectedByte("in literal '\(literal)'") }
            index += 1
        }
    }

    /// The fault for the byte at the read position; `context` says what was expected there.
    func unexpectedByte(_ context: String) -> ProtocolFault {
        let byte = bytes[index]
        let shown = (0x21...0x7E).contains(byte)
            ? "'\(Character(Unicode.Scalar(byte)))'"
            : "byte 0x\(byte < 0x10 ? "0" : "")\(String(byte, radix: 16))"
        return ProtocolFault(.invalidJSON, "unexpected \(shown) at byte offset \(index) \(context)")
    }

    /// The fault for input ending at the read position; `context` says what was expected.
    func endOfInput(_ context: String) -> ProtocolFault {
        ProtocolFault(.invalidJSON, "unexpected end of input at byte offset \(index), \(context)")
    }
}
