import LuminalWire
import Testing

private func text(_ value: JSONValue) -> String {
    String(decoding: value.serialized(), as: UTF8.self)
}

/// A small deterministic generator (SplitMix64) for property tests.
private struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }

    mutating func string() -> String {
        let alphabet: [Unicode.Scalar] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{0}", "\u{1F}", "\u{7F}", "é", "€", "😀", "\u{10FFFF}"]
        var scalars = String.UnicodeScalarView()
        for _ in 0..<below(12) {
            scalars.append(alphabet[below(alphabet.count)])
        }
        return String(scalars)
    }

    mutating func value(depth: Int) -> JSONValue {
        switch below(depth > 4 ? 6 : 8) {
        case 0: return .null
        case 1: return .bool(below(2) == 0)
        case 2: return .int(Int64(bitPattern: next()) >> below(64))
        case 3:
            let double = Double(bitPattern: next())
            return double.isFinite ? .double(double) : .double(Double(below(1000)) / 8)
        case 4, 5: return .string(string())
        case 6: return .array((0..<below(5)).map { _ in value(depth: depth + 1) })
        default:
            var members: [String: JSONValue] = [:]
            for _ in 0..<below(5) {
                members[string()] = value(depth: depth + 1)
            }
            return .object(members)
        }
    }
}

@Suite("JSON writer")
struct JSONWriterTests {
    @Test("output is compact")
    func compact() {
        #expect(text(nil) == "null")
        #expect(text(true) == "true")
        #expect(text(false) == "false")
        #expect(text([1, "a", [], [:], ["k": [nil]]]) == #"[1,"a",[],{},{"k":[null]}]"#)
    }

    @Test("integers are written exactly")
    func integers() {
        #expect(text(.int(0)) == "0")
        #expect(text(.int(-1)) == "-1")
        #expect(text(.int(.max)) == "9223372036854775807")
        #expect(text(.int(.min)) == "-9223372036854775808")
        #expect(text(.int(9_007_199_254_740_991)) == "9007199254740991")
    }

    @Test("doubles are shortest round-trip JSON numbers; non-finite ones are null")
    func doubles() throws {
        #expect(text(0.1) == "0.1")
        #expect(text(2.0) == "2.0")
        #expect(text(-0.0) == "-0.0")
        #expect(text(1e20) == "1e+20")
        #expect(text(1e-7) == "1e-07")
        #expect(text(.double(.infinity)) == "null")
        #expect(text(.double(-.infinity)) == "null")
        #expect(text(.double(.nan)) == "null")
        for double in [0.1, 1e20, 1e-7, .leastNonzeroMagnitude, 1.7976931348623157e308, -2.5, 123456.789, 1e15, 1e16, 0.0] {
            #expect(try JSONValue.parse(JSONValue.double(double).serialized()) == .double(double))
        }
    }

    @Test("strings escape quotes, backslashes and control characters only")
    func escapes() {
        #expect(text("\"\\\n\r\t\u{08}\u{0C}") == #""\"\\\n\r\t\b\f""#)
        #expect(text("\u{0}\u{1}\u{1F}") == #""\u0000\u0001\u001f""#)
        #expect(text("/\u{7F}é€😀") == "\"/\u{7F}é€😀\"")
        #expect(text(["k\"ey": "v"]) == #"{"k\"ey":"v"}"#)
    }

    @Test("description is the serialized text and write(into:) appends")
    func descriptionAndAppend() {
        let value: JSONValue = ["list": [1, 2.5, "x"]]
        #expect(value.description == text(value))
        var buffer: [UInt8] = [0xAA]
        value.write(into: &buffer)
        #expect(buffer == [0xAA] + value.serialized())
    }

    @Test("random values survive serialize and parse")
    func roundTrip() throws {
        var generator = SplitMix64(state: 0x5EED)
        for _ in 0..<2000 {
            let value = generator.value(depth: 0)
            #expect(try JSONValue.parse(value.serialized()) == value)
            #expect(try JSONValue.parse(value.description) == value)
        }
    }
}
