#if canImport(Glibc)
import Glibc
#endif

/// A command's arguments, checked against its `CommandSpec`.
struct ParsedArguments {
    /// Flags given, by long name.
    private(set) var flags: Set<String> = []
    /// Option values given, by long name (the last one wins).
    private(set) var values: [String: String] = [:]
    /// Every value given to each option, in order: for options that may be repeated.
    private(set) var allValues: [String: [String]] = [:]
    /// The positional arguments.
    private(set) var operands: [String] = []

    /// Whether the flag `long` was given.
    func has(_ long: String) -> Bool { flags.contains(long) }

    /// Parses `arguments` for `spec`; `--help` shows the help and exits 0.
    init(_ arguments: [String], for spec: CommandSpec) throws(UsageError) {
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            if argument == "--" {
                operands += remaining
                break
            }
            guard argument.hasPrefix("-"), argument != "-" else {
                operands.append(argument)
                continue
            }
            var names: [(name: String, inline: String?)] = []
            if argument.hasPrefix("--") {
                let body = argument.dropFirst(2)
                let parts = body.split(separator: "=", maxSplits: 1).map(String.init)
                names = [(parts[0], parts.count > 1 ? parts[1] : nil)]
            } else if Int(argument) != nil {
                operands.append(argument) // a negative number, e.g. a call parameter
                continue
            } else {
                names = argument.dropFirst().map { (String($0), nil) }
            }
            for (name, inline) in names {
                let option = try Self.option(named: name, dashes: argument.hasPrefix("--") ? "--" : "-", in: spec)
                if option.long == "help" {
                    Console.out(spec.help)
                    exit(0)
                }
                if let placeholder = option.value {
                    guard let value = inline ?? remaining.popFirst() else {
                        throw UsageError(command: spec.name, "option --\(option.long) needs a value (\(placeholder))")
                    }
                    values[option.long] = value
                    allValues[option.long, default: []].append(value)
                } else {
                    guard inline == nil else { throw UsageError(command: spec.name, "option --\(option.long) takes no value") }
                    flags.insert(option.long)
                }
            }
        }
        guard spec.operandCount.contains(operands.count) else {
            let wanted = spec.operandCount.lowerBound == spec.operandCount.upperBound
                ? "\(spec.operandCount.lowerBound)" : spec.operandCount.upperBound == Int.max
                ? "at least \(spec.operandCount.lowerBound)" : "\(spec.operandCount.lowerBound) to \(spec.operandCount.upperBound)"
            throw UsageError(command: spec.name, "takes \(wanted) argument\(wanted == "1" ? "" : "s") (\(spec.operands.isEmpty ? "none" : spec.operands)), got \(operands.count)\(operands.isEmpty ? "" : ": \(operands.joined(separator: " "))")")
        }
    }

    private static func option(named name: String, dashes: String, in spec: CommandSpec) throws(UsageError) -> OptionSpec {
        let options = spec.options + [.help]
        if let option = options.first(where: { dashes == "--" ? $0.long == name : $0.short.map(String.init) == name }) {
            return option
        }
        let candidates = options.map { "--\($0.long)" } + options.compactMap { $0.short.map { "-\($0)" } }
        let suggestion = Suggestion.closest(to: dashes + name, among: candidates).map { "; did you mean '\($0)'?" } ?? ""
        throw UsageError(command: spec.name, "unknown option '\(dashes)\(name)'\(suggestion)")
    }
}

/// A command line that does not fit the command.
struct UsageError: Error {
    /// The command, or nil for the top level.
    let command: String?
    /// What is wrong, naming the argument.
    let message: String

    init(command: String?, _ message: String) {
        self.command = command
        self.message = message
    }
}
