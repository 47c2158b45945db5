#if canImport(Glibc)
import Glibc
#endif

/// Colour for people, plain text for pipes: colour only when standard output is a terminal and
/// `NO_COLOR` is unset or empty.
struct Style {
    /// Whether to colour.
    let colour: Bool

    /// The style for standard output as it is now.
    static let current = Style(colour: isatty(1) == 1 && (getenv("NO_COLOR").map { String(cString: $0).isEmpty } ?? true))

    /// A photon state, coloured by how well it is doing.
    func state(_ text: String) -> String {
        guard colour else { return text }
        let code = text.hasPrefix("started") ? "32" : text.hasPrefix("crashed") || text.hasPrefix("faulted") || text.hasPrefix("quarantined") ? "31" : "33"
        return "\u{1B}[\(code)m\(text)\u{1B}[0m"
    }

    /// A heading.
    func bold(_ text: String) -> String {
        colour ? "\u{1B}[1m\(text)\u{1B}[0m" : text
    }
}
