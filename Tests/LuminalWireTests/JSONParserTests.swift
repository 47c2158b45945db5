import LuminalWire
import Testing

/// The fault `parse` throws for `bytes`, if any.
private func parseFault(_ bytes: [UInt8], maxDepth: Int = 512) -> ProtocolFault? {
    do {
        _ = try JSONValue.parse(bytes, maxDepth: maxDepth)
        return nil
    } catch {
        return error
    }
}

private func parseFault(_ text: String) -> ProtocolFault? {
    parseFault(Array(text.utf8))
}

@Suite("JSON parser")
struct JSONParserTests {
    @Test("scalars at the top level")
    func scalars() throws {
        #expect(try JSONValue.parse("null") == .null)
        #expect(try JSONValue.parse("true") == .bool(true))
        #expect(try JSONValue.parse("false") == .bool(false))
        #expect(try JSONValue.parse("0") == .int(0))
        #expect(try JSONValue.parse("-17") == .int(-17))
        #expect(try JSONValue.parse("1.5") == .double(1.5))
        #expect(try JSONValue.parse("\"hi\"") == .string("hi"))
        #expect(try JSONValue.parse(" \t\r\n[ 1 , {\"a\" : [ ] } ]\n ") == [1, ["a": []]])
    }

    @Test("integer tokens that fit Int64 stay exact; the rest are doubles")
    func integerBoundaries() throws {
        #expect(try JSONValue.parse("9223372036854775807") == .int(.max))
        #expect(try JSONValue.parse("-9223372036854775808") == .int(.min))
        #expect(try JSONValue.parse("9223372036854775808") == .double(9223372036854775808.0))
        #expect(try JSONValue.parse("-9223372036854775809") == .double(-9223372036854775809.0))
        #expect(try JSONValue.parse("9007199254740993") == .int(9_007_199_254_740_993))
        #expect(try JSONValue.parse("123456789012345678901234567890") == .double(1.2345678901234568e29))
    }

    @Test("fractions and exponents make doubles")
    func doubles() throws {
        #expect(try JSONValue.parse("1.0") == .double(1))
        #expect(try JSONValue.parse("1e2") == .double(100))
        #expect(try JSONValue.parse("1E+2") == .double(100))
        #expect(try JSONValue.parse("25e-1") == .double(2.5))
        #expect(try JSONValue.parse("-0") == .int(0))
        let negativeZero = try #require(try JSONValue.parse("-0.0").doubleValue)
        #expect(negativeZero == 0 && negativeZero.sign == .minus)
        #expect(try JSONValue.parse("1e-400") == .double(0))
        #expect(try JSONValue.parse("1.7976931348623157e308") == .double(.greatestFiniteMagnitude))
        #expect(try JSONValue.parse("5e-324") == .double(.leastNonzeroMagnitude))
    }

    @Test("malformed numbers are invalid JSON", arguments: [
        "01", "-01", "00", "+1", ".5", "1.", "1.e5", "1e", "1e+", "-", "--1", "- 1", "0x10", "NaN", "Infinity",
        "-Infinity", "1e400", "-1e400", "1,", "1 2",
    ])
    func malformedNumbers(_ text: String) {
        #expect(parseFault(text)?.kind == .invalidJSON)
    }

    @Test("malformed documents are invalid JSON", arguments: [
        "", " ", "{", "}", "[", "[1", "[1,]", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{,}", "[,1]", "{1:2}", "{'a':1}",
        "tru", "nul", "True", "nulls", "{}{}", "{} x", "\"abc", "\"\\", "\"\\u12\"", "\"\\uzzzz\"", "\"\\a\"", "\u{FEFF}{}",
    ])
    func malformedDocuments(_ text: String) {
        #expect(parseFault(text)?.kind == .invalidJSON)
    }

    @Test("escapes decode, including surrogate pairs")
    func escapes() throws {
        #expect(try JSONValue.parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{08}\u{0C}\n\r\t"))
        #expect(try JSONValue.parse(#""\u0000\u001f\u0041\u00e9\u00E9\u20AC""#) == .string("\u{0}\u{1F}Aéé€"))
        #expect(try JSONValue.parse(#""\ud83d\ude00 \uD834\uDD1E \udbff\udfff""#) == .string("😀 𝄞 \u{10FFFF}"))
        let long = String(repeating: "abcdefgh", count: 100)
        #expect(try JSONValue.parse("\"\(long)\\n\(long)\"") == .string(long + "\n" + long))
        #expect(try JSONValue.parse(#"{"k\u00e9y":1}"#) == ["kéy": 1])
    }

    @Test("unpaired surrogate escapes are invalid JSON", arguments: [
        #""\ud800""#, #""\udbff x""#, #""\udc00""#, #""\udfff\ud800""#, #""\ud800\u0041""#, #""\ud800\ud800""#,
        #""\ud800\n""#, #""\ud800\""#,
    ])
    func loneSurrogates(_ text: String) {
        #expect(parseFault(text)?.kind == .invalidJSON)
    }

    @Test("raw control characters in strings are rejected; DEL is allowed")
    func controlCharacters() throws {
        for byte in UInt8(0)..<0x20 {
            #expect(parseFault([0x22, byte, 0x22])?.kind == .invalidJSON)
            #expect(parseFault([0x22, 0x5C, 0x6E, byte, 0x22])?.kind == .invalidJSON)
        }
        #expect(try JSONValue.parse([0x22, 0x7F, 0x22]) == .string("\u{7F}"))
    }

    @Test("well-formed UTF-8 at every sequence length boundary")
    func validUTF8() throws {
        let text = "\u{80}\u{7FF}\u{800}\u{D7FF}\u{E000}\u{FFFF}\u{10000}\u{10FFFF} ascii"
        #expect(try JSONValue.parse("\"\(text)\"") == .string(text))
    }

    @Test("ill-formed UTF-8 is reported with its byte offset", arguments: [
        ([0x80], 0), ([0xBF], 0), ([0xC0, 0xAF], 0), ([0xC1, 0xBF], 0), ([0xE0, 0x80, 0xAF], 0), ([0xE0, 0x9F, 0xBF], 0),
        ([0xED, 0xA0, 0x80], 0), ([0xED, 0xBF, 0xBF], 0), ([0xF0, 0x80, 0x80, 0xAF], 0), ([0xF0, 0x8F, 0xBF, 0xBF], 0),
        ([0xF4, 0x90, 0x80, 0x80], 0), ([0xF5, 0x80, 0x80, 0x80], 0), ([0xFE], 0), ([0xFF], 0), ([0xC3], 0),
        ([0xE2, 0x82], 0), ([0xF0, 0x9F, 0x98], 0), ([0xC3, 0xA9, 0xC3], 2), ([0x61, 0xE2, 0x28, 0xA1], 1),
    ] as [([UInt8], Int)])
    func invalidUTF8(_ sequence: [UInt8], offset: Int) {
        let prefix = Array("{\"padding for the fast path\":\"".utf8)
        let fault = parseFault(prefix + sequence + Array("\"}".utf8))
        #expect(fault?.kind == .invalidUTF8)
        #expect(fault?.detail.contains("byte offset \(prefix.count + offset)") == true, "\(String(describing: fault))")
    }

    @Test("ill-formed UTF-8 outside strings is an UTF-8 fault too")
    func invalidUTF8OutsideStrings() {
        #expect(parseFault([0x7B, 0x7D, 0xFF])?.kind == .invalidUTF8)
        #expect(parseFault([0xFF, 0x7B, 0x7D])?.kind == .invalidUTF8)
    }

    @Test("duplicate keys are rejected at any depth")
    func duplicateKeys() {
        #expect(parseFault(#"{"a":1,"a":1}"#)?.kind == .invalidJSON)
        #expect(parseFault(#"[{"x":{"a":1,"b":2,"a":3}}]"#)?.kind == .invalidJSON)
        #expect(parseFault(#"{"a":1,"\u0061":2}"#)?.detail.contains("duplicate key \"a\"") == true)
        #expect(parseFault(#"{"a":{"a":1},"b":{"a":1}}"#) == nil)
    }

    @Test("nesting is limited by maxDepth")
    func depth() throws {
        func nested(_ depth: Int) -> [UInt8] {
            Array(repeating: UInt8(ascii: "["), count: depth) + Array(repeating: UInt8(ascii: "]"), count: depth)
        }
        #expect(parseFault(nested(512)) == nil)
        #expect(parseFault(nested(513))?.kind == .invalidJSON)
        #expect(parseFault(nested(2), maxDepth: 2) == nil)
        #expect(parseFault(nested(3), maxDepth: 2)?.detail.contains("nesting deeper than 2") == true)
        #expect(parseFault(Array("{\"a\":[{}]}".utf8), maxDepth: 2)?.kind == .invalidJSON)
        #expect(parseFault(Array("{\"a\":[1]}".utf8), maxDepth: 2) == nil)
        #expect(parseFault(Array("1".utf8), maxDepth: 0) == nil)
        #expect(parseFault(nested(3000), maxDepth: 3000) == nil, "the parser does not recurse per level")
    }

    @Test("the three entry points agree")
    func entryPoints() throws {
        let text = #"{"type":"call","id":3,"params":{"list":[1,2.5,"é",null,true]}}"#
        let bytes = Array(text.utf8)
        let fromString = try JSONValue.parse(text)
        let fromArray = try JSONValue.parse(bytes)
        let fromBuffer = try bytes.withUnsafeBytes { buffer throws(ProtocolFault) in try JSONValue.parse(buffer) }
        #expect(fromString == fromArray)
        #expect(fromArray == fromBuffer)
        #expect(fromString["params"]?["list"]?[2] == "é")
    }

    @Test("fault details name the offending byte and offset")
    func faultDetails() {
        #expect(parseFault("[1,]")?.description == "invalid JSON: unexpected ']' at byte offset 3 where a value was expected")
        #expect(parseFault("{}x")?.description == "invalid JSON: unexpected 'x' at byte offset 2 after the top-level value")
        #expect(parseFault("[\u{01}]")?.detail == "unexpected byte 0x01 at byte offset 1 where a value was expected")
        #expect(parseFault("[1")?.detail == "unexpected end of input at byte offset 2, expected ',' or ']'")
        #expect(parseFault([0x20, 0xFF])?.description == "invalid UTF-8: ill-formed sequence at byte offset 1")
        #expect(parseFault("[1e400]")?.detail == "number 1e400 at byte offset 1 is out of range")
        // A number as long as a frame is not copied whole into the fault.
        #expect(parseFault("[1" + String(repeating: "0", count: 1_000_000) + "]")?.detail
                == "number 1\(String(repeating: "0", count: 31))… (1000001 characters) at byte offset 1 is out of range")
    }
}
