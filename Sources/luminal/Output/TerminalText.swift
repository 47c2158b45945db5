/// Text from photons (their output, names, errors, results) made safe to print on a terminal.
enum TerminalText {
    /// `text` with every control character written as `\x` and its code point in two hex digits:
    /// the C0 controls except tab (NUL is `\x00`, ESC `\x1b`), DEL and the C1 controls U+0080–U+009F;
    /// the line and paragraph separators U+2028 and U+2029 as `\u2028` and `\u2029`.
    /// No escape sequence (window title, clear screen, cursor moves) reaches the terminal, and no
    /// name breaks a line. With `keepingNewlines`, line feeds stay as they are.
    static func escaped(_ text: String, keepingNewlines: Bool = false) -> String {
        func isControl(_ scalar: Unicode.Scalar) -> Bool {
            switch scalar.value {
            case 0x09: false
            case 0x0A: !keepingNewlines
            case 0x00..<0x20, 0x7F...0x9F, 0x2028, 0x2029: true
            default: false
            }
        }
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            guard isControl(scalar) else {
                result.append(scalar)
                continue
            }
            let hex = String(scalar.value, radix: 16)
            let prefix = scalar.value > 0xFF ? "\\u" : scalar.value < 0x10 ? "\\x0" : "\\x"
            result.append(contentsOf: (prefix + hex).unicodeScalars)
        }
        return String(result)
    }
}
