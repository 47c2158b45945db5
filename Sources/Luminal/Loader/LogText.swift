/// How a supervisor's log message that spans lines is written in a text log (the console, text
/// log files, `luminal logs`): every line after the first is indented, so that a line break a
/// file name or a photon's output brings into a message can never pass for a record of its own.
public enum LogText {
    /// The indent of a continuation line.
    public static let continuation = "    "

    /// `message` with each line break (LF, CR LF, or a lone CR) made one LF followed by `continuation`.
    public static func indentingContinuations(_ message: String) -> String {
        guard message.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D }) else { return message }
        var result = String.UnicodeScalarView()
        var afterCR = false
        for scalar in message.unicodeScalars {
            defer { afterCR = scalar == "\r" }
            if scalar == "\n", afterCR { continue } // the LF of a CR LF: its break is made
            if scalar == "\n" || scalar == "\r" {
                result.append("\n")
                result.append(contentsOf: continuation.unicodeScalars)
            } else {
                result.append(scalar)
            }
        }
        return String(result)
    }
}
