extension JSONParser {
    /// Reads a number token: an `Int64` when it is an integer that fits, else a finite `Double`.
    mutating func parseNumber() throws(ProtocolFault) -> JSONValue {
        let start = index
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        guard index < bytes.count else { throw endOfInput("in a number") }
        var integer: Int64 = 0
        var overflow = false
        switch bytes[index] {
        case UInt8(ascii: "0"):
            index += 1
            if index < bytes.count, isDigit(bytes[index]) {
                throw ProtocolFault(.invalidJSON, "number with a leading zero at byte offset \(start)")
            }
        case UInt8(ascii: "1")...UInt8(ascii: "9"):
            while index < bytes.count, isDigit(bytes[index]) {
                if !overflow {
                    let digit = Int64(bytes[index] - UInt8(ascii: "0"))
                    let (scaled, scaleOverflow) = integer.multipliedReportingOverflow(by: 10)
                    let (next, addOverflow) = negative
                        ? scaled.subtractingReportingOverflow(digit)
                        : scaled.addingReportingOverflow(digit)
                    overflow = scaleOverflow || addOverflow
                    integer = next
                }
                index += 1
            }
        default:
            throw unexpectedByte("in a number (expected a digit)")
        }
        var isInteger = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            try skipDigits(context: "in a number fraction")
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            try skipDigits(context: "in a number exponent")
        }
        if isInteger && !overflow {
            return .int(integer)
        }
        let token = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let number = Double(token), number.isFinite else {
            // A number may be as long as the frame: the fault shows its start.
            let shown = token.utf8.count <= 40 ? token : "\(token.prefix(32))… (\(token.utf8.count) characters)"
            throw ProtocolFault(.invalidJSON, "number \(shown) at byte offset \(start) is out of range")
        }
        return .double(number)
    }

    /// Skips one or more digits.
    private mutating func skipDigits(context: String) throws(ProtocolFault) {
        guard index < bytes.count else { throw endOfInput(context) }
        guard isDigit(bytes[index]) else { throw unexpectedByte("\(context) (expected a digit)") }
        repeat { index += 1 } while index < bytes.count && isDigit(bytes[index])
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10
    }
}
