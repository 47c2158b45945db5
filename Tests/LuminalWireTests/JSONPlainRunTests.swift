@testable import LuminalWire
import Testing

/// The eight-bytes-at-a-time scan for the end of a plain run of string bytes agrees with a byte
/// by byte one, wherever the ending byte sits and whatever surrounds it.
@Suite struct JSONPlainRunTests {
    /// The first byte from `start` that is `"`, `\` or below 0x20, byte by byte.
    static func reference(_ bytes: [UInt8], from start: Int) -> Int {
        bytes[start...].firstIndex { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") } ?? bytes.count
    }

    @Test func findsEveryEndingByteAtEveryPosition() {
        // Bytes around the edges of the test: the ones that end a run, their neighbours, and
        // bytes from 0x80 up (UTF-8 continuation and lead bytes, which borrow in the word test).
        let fillers: [UInt8] = [UInt8(ascii: "a"), 0x21, 0x23, 0x5B, 0x5D, 0x7F, 0x80, 0xA2, 0xC3, 0xFF]
        let enders: [UInt8] = [0x00, 0x01, 0x1F, UInt8(ascii: "\""), UInt8(ascii: "\\")]
        for length in 0...40 {
            for filler in fillers {
                let plain = [UInt8](repeating: filler, count: length)
                for start in 0...length {
                    #expect(plain.withUnsafeBufferPointer { JSONPlainRun.end(in: $0, from: start) } == length)
                }
                for ender in enders {
                    for position in 0..<length {
                        var bytes = plain
                        bytes[position] = ender
                        for start in [0, position / 2, position] {
                            #expect(bytes.withUnsafeBufferPointer { JSONPlainRun.end(in: $0, from: start) } == Self.reference(bytes, from: start))
                        }
                    }
                }
            }
        }
    }

    @Test func aStringWithEveryKindOfByteRoundTrips() throws {
        var text = ""
        for scalar in [0x00, 0x1F, 0x20, 0x22, 0x5C, 0x7F, 0xE9, 0x2028, 0x1F600] {
            text += String(repeating: "x", count: scalar % 13) + String(Unicode.Scalar(UInt32(scalar))!)
        }
        let value = JSONValue.string(String(repeating: text, count: 50))
        #expect(try JSONValue.parse(value.serialized()) == value)
    }
}
