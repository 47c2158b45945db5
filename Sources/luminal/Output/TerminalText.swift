/// Text from photons (their output, names, errors, results) made safe to print on a terminal.
enum TerminalText {
    /// `text` with every control character written as `\x` and its code point in two hex digits:
    /// the C0 controls except tab (NUL is `\x00`, ESC `\x1b`), DEL and the C1 controls U+0080–U+009F;
    /// the line and paragraph separators U+2028 and U+2029 as `\u2028` and `\u2029`.
    /// No escape sequence (window title, clear screen, cursor moves) reaches the terminal, and no
    /// name breaks a line. With `keepingNewlines`, line feeds stay as they are (a log message
    /// goes through `LogText.indentingContinuations` first, so that none passes for a record).
    static func escaped(_ text: String, keepingNewlines: Bool = false) -> String {
        func isControl(_ scalar: Unicode.Scalar) -> Bool {
            switch scalar.value {
            case 0x09: false
            case 0x0A: !keepingNewlines
            case 0x00..<0x20, 0x7F...0x9F, 0x2028, 0x2029: true
            default: false
            }
        }
        guard mayHoldControls(text) else { return text }
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

    /// Whether `text` has a byte that may begin a control character of `escaped` or a line feed:
    /// one below 0x20 but tab, DEL, 0xC2 (which begins U+0080–U+00BF) or 0xE2 (which begins
    /// U+2028 and U+2029, among others). A plain loop of byte comparisons on the UTF-8 in place: a
    /// search of the scalars with `contains(where:)` and range patterns, or of the `utf8` view,
    /// makes generic calls per character in a debug build, where it was a quarter of `luminal
    /// run`'s time printing a photon's flood of output.
    private static func mayHoldControls(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return false }
            var index = 0
            while index < bytes.count {
                let byte = base[index]
                if byte == 0x7F || byte == 0xC2 || byte == 0xE2 { return true }
                if byte < 0x20 && byte != 0x09 { return true }
                index += 1
            }
            return false
        }
    }
}
