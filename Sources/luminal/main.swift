#if canImport(Glibc)
import Glibc
#endif
import Luminal

// The `luminal` command: `luminal COMMAND [ARGUMENTS] [options]`.
let arguments = Array(CommandLine.arguments.dropFirst())
do throws(UsageError) {
    switch arguments.first {
    case nil, "-h", "--help":
        Console.out(CommandList.overview)
    case "help":
        guard let name = arguments.dropFirst().first else {
            Console.out(CommandList.overview)
            break
        }
        guard let spec = CommandList.all.first(where: { $0.name == name }) else { throw unknownCommand(name) }
        Console.out(spec.help)
    case "-V", "--version", "version":
        Console.out(Version.line)
    case let name?:
        guard let spec = CommandList.all.first(where: { $0.name == name }) else { throw unknownCommand(name) }
        let parsed = try ParsedArguments(Array(arguments.dropFirst()), for: spec)
        if spec.name == CommandList.run.name {
            try RunCommand.main(parsed)
        }
        if spec.name == CommandList.top.name {
            try TopCommand.main(spec, parsed)
        }
        try ClientCommand.main(spec, parsed)
    }
} catch {
    Console.error("luminal\(error.command.map { " \($0)" } ?? ""): \(error.message)")
    Console.error("Run 'luminal \(error.command.map { "\($0) " } ?? "")--help' for usage.")
    exit(ExitCode.usage.rawValue)
}

/// The usage error for a command that does not exist, with the nearest one.
func unknownCommand(_ name: String) -> UsageError {
    let hint = Suggestion.closest(to: name, among: CommandList.all.map(\.name)).map { "; did you mean '\($0)'?" } ?? ""
    return UsageError(command: nil, "unknown command '\(name)'\(hint)")
}
