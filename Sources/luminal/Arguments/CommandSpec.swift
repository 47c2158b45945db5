/// What one `luminal` command accepts, from which its parser and its `--help` are made.
struct CommandSpec: Sendable {
    /// The command word, e.g. "status".
    let name: String
    /// The positional arguments as the usage line shows them, e.g. "[NAME…]".
    let operands: String
    /// How many positional arguments it takes.
    let operandCount: ClosedRange<Int>
    /// One line for the command list.
    let summary: String
    /// Paragraphs for `luminal COMMAND --help`.
    let details: String
    /// Its options (`--help` is implied).
    let options: [OptionSpec]

    /// "luminal status [NAME…] [options]".
    var usage: String {
        "luminal \(name)\(operands.isEmpty ? "" : " \(operands)")\(options.isEmpty ? "" : " [options]")"
    }

    /// The text `luminal COMMAND --help` prints.
    var help: String {
        var lines = ["Usage: \(usage)", "", summary]
        if !details.isEmpty { lines += ["", details] }
        lines += ["", "Options:"]
        for option in options + [.help] {
            let names = (option.short.map { "-\($0), " } ?? "    ") + "--\(option.long)" + (option.value.map { " \($0)" } ?? "")
            lines.append("  " + names.padding(toLength: max(names.count + 2, 24)) + option.help)
        }
        return lines.joined(separator: "\n")
    }
}

/// One option of a command.
struct OptionSpec: Sendable {
    /// The long name without dashes, e.g. "force".
    let long: String
    /// The one-letter name, if any.
    let short: Character?
    /// The value's placeholder (e.g. "PATH") for an option that takes one; nil for a flag.
    let value: String?
    /// One line of help.
    let help: String

    init(_ long: String, short: Character? = nil, value: String? = nil, _ help: String) {
        self.long = long
        self.short = short
        self.value = value
        self.help = help
    }

    /// `-h, --help`, which every command has.
    static let help = OptionSpec("help", short: "h", "show this help")
    /// `--json`: machine-readable output.
    static let json = OptionSpec("json", "print JSON for scripts instead of a table")
    /// `--control PATH`: which supervisor to talk to.
    static let control = OptionSpec("control", value: "PATH", "the supervisor's control socket (default: $LUMINAL_CONTROL, else $XDG_RUNTIME_DIR/luminal.sock, else /tmp/luminal-UID.sock)")
    /// `--force`: skip the finalizers.
    static let force = OptionSpec("force", "skip the photons' finalizers: SIGTERM at once, SIGKILL after the kill timeout")
    /// `--all`: every photon, which `stop` and `restart` need said rather than implied by naming none.
    static let all = OptionSpec("all", "every photon (stop and restart need it when no NAME or PATH is given)")
}

extension String {
    /// The string padded with spaces to `length` characters.
    func padding(toLength length: Int) -> String {
        count >= length ? self : self + String(repeating: " ", count: length - count)
    }
}
