extension JSONParser {
    /// Reads string content up to and including the closing quote; the index is just past the
    /// opening quote.
    mutating func parseStringBody() throws(ProtocolFault) -> String {
        let start = index
        index = JSONPlainRun.end(in: bytes, from: index)
        guard index < bytes.count else { throw endOfInput("in a string") }
        switch bytes[index] {
        case UInt8(ascii: "\""):
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            index += 1
            return text
        case UInt8(ascii: "\\"):
            return try parseEscapedStringBody(from: start)
        default:
            throw unexpectedByte("in a string (control characters must be escaped)")
        }
    }

    /// Continues a string that contains escapes, decoding into the reusable scratch buffer;
    /// `start` is the first content byte and the index is at the first backslash.
    private mutating func parseEscapedStringBody(from start: Int) throws(ProtocolFault) -> String {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: scratch, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index += 1
                try parseEscape()
            case 0..<0x20:
                throw unexpectedByte("in a string (control characters must be escaped)")
            default:
                let runStart = index
                index = JSONPlainRun.end(in: bytes, from: index + 1)
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            }
        }
        throw endOfInput("in a string")
    }

    /// Decodes one escape into the scratch buffer; the index is just past the backslash.
    private mutating func parseEscape() throws(ProtocolFault) {
        guard index < bytes.count else { throw endOfInput("in an escape sequence") }
        let escaped = bytes[index]
        index += 1
        switch escaped {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(escaped)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"): try parseUnicodeEscape()
        default:
            index -= 1
            throw unexpectedByte("after a backslash")
        }
    }

    /// Decodes the four hex digits of a `\u` escape (and a following `\u` low surrogate when needed) into the scratch buffer.
    private mutating func parseUnicodeEscape() throws(ProtocolFault) {
        let escapeOffset = index - 2
        let unit = try parseHexQuad()
        var scalar = UInt32(unit)
        switch unit {
        case 0xD800...0xDBFF:
            guard bytes.count - index >= 2,
                  bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw loneSurrogate(at: escapeOffset)
            }
            index += 2
            let low = try parseHexQuad()
            guard (0xDC00...0xDFFF).contains(low) else { throw loneSurrogate(at: escapeOffset) }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (UInt32(low) - 0xDC00)
        case 0xDC00...0xDFFF:
            throw loneSurrogate(at: escapeOffset)
        default:
            break
        }
        appendUTF8(scalar)
    }

    private mutating func parseHexQuad() throws(ProtocolFault) -> UInt16 {
        var unit: UInt16 = 0
        for _ in 0..<4 {
            guard index < bytes.count else { throw endOfInput("in a \\u escape") }
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw unexpectedByte("in a \\u escape (expected a hex digit)")
            }
            unit = unit << 4 | UInt16(digit)
            index += 1
        }
        return unit
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | scalar >> 6))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | scalar >> 12))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | scalar >> 18))
            scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    private func loneSurrogate(at offset: Int) -> ProtocolFault {
        ProtocolFault(.invalidJSON, "unpaired surrogate escape at byte offset \(offset)")
    }
}
