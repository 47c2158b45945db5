@testable import LuminalSystem
import Testing

/// The man page and shell completions Scripts/install writes name every command and option the
/// binary accepts, as its own `--help` lists them.
@Suite struct CommandReference {
    /// What `luminal --help` and `luminal COMMAND --help` list: each command with its options'
    /// long names and one-letter names.
    static func accepted() async throws -> [(command: String, long: [String], short: [String])] {
        let overview = try await luminal("--help").output
        let listed = overview.drop { $0 != "Commands:" }.dropFirst().prefix { !$0.isEmpty }
        var commands: [(command: String, long: [String], short: [String])] = []
        for line in listed {
            let name = String(line.split(separator: " ")[0])
            let help = try await luminal(name, "--help").output
            var long: [String] = [], short: [String] = []
            for option in help.drop(while: { $0 != "Options:" }).dropFirst() {
                for word in option.split(separator: " ") where word.hasPrefix("-") {
                    let bare = String(word.trimmingSuffix(","))
                    if bare.hasPrefix("--") { long.append(String(bare.dropFirst(2))) } else { short.append(String(bare.dropFirst())) }
                }
            }
            commands.append((name, long, short))
        }
        return commands
    }

    /// The file Scripts/command-reference writes in `format` for the built binary.
    static func written(_ format: String) async throws -> String {
        let script = Paths.join(BuildProducts.repository, "Scripts/command-reference")
        let run = try CommandProcess([script, Paths.join(BuildProducts.directory, "luminal"), format], program: "/usr/bin/python3")
        #expect(try await run.finish() == .exited(code: 0), "\(run.lines)")
        return run.output.joined(separator: "\n")
    }

    @Test(arguments: ["man", "bash", "zsh", "fish"])
    func everyCommandAndOptionIsInTheManPageAndTheCompletions(format: String) async throws {
        let accepted = try await Self.accepted()
        #expect(accepted.count >= 13 && accepted.contains { $0.command == "run" && $0.long.contains("no-watch") && $0.short.contains("r") })
        let text = try await Self.written(format)
        // Words as the shell or roff sees them: roff's "\-" is a dash and its font changes
        // ("\fB") separate, as do quotes, brackets, braces, commas, colons and equals signs.
        let words = Set(text.replacing("\\-", with: "-").replacing(/\\f[BIR]/, with: " ")
            .split { !($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }.map(String.init))
        for (command, long, short) in accepted {
            let hasCommand = format == "man" ? text.contains(".SS \(command)\n") : format == "fish" ? text.contains(" -a \(command) ") : words.contains(command)
            #expect(hasCommand, "\(format): no command \(command)")
            for name in long {
                let found = format == "fish" ? text.contains(" -l \(name) ") : words.contains("--\(name)")
                #expect(found, "\(format): no option --\(name) of \(command)")
            }
            for letter in short {
                let found = format == "fish" ? text.contains(" -s \(letter) ") : words.contains("-\(letter)")
                #expect(found, "\(format): no option -\(letter) of \(command)")
            }
        }
    }
}

extension CommandReference {
    /// The Python runtime's package carries the version `luminal --version` shows: a release sets both.
    @Test func thePythonPackageHasLuminalsVersion() async throws {
        let shown = try await luminal("--version").output.first?.split(separator: " ").dropFirst().first.map(String.init)
        let pyproject = String(decoding: try Paths.read(Paths.join(BuildProducts.repository, "protocol/python/pyproject.toml")), as: UTF8.self)
        let declared = pyproject.split(separator: "\n").first { $0.hasPrefix("version = ") }?.split(separator: "\"").dropFirst().first.map(String.init)
        #expect(shown != nil && shown == declared, "luminal \(shown ?? "?"), pyproject.toml \(declared ?? "?")")
    }
}

extension Substring {
    /// The text without `suffix` at its end, if it has it.
    func trimmingSuffix(_ suffix: String) -> Substring { hasSuffix(suffix) ? dropLast(suffix.count) : self }
}
