import Glibc
import Luminal

// The `luminal` command.
let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "run":
    RunCommand.main(Array(arguments.dropFirst()))
case "--version", "version":
    print("luminal \(Version.current)")
case nil, "-h", "--help", "help":
    print(Usage.text)
default:
    Usage.fail("unknown command '\(arguments[0])'")
}
