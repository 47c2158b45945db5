#if canImport(Glibc)
import Glibc
#endif
import Luminal
import LuminalDaemon
import LuminalWire

/// The commands that talk to a running supervisor: send one request, print the reply, exit
/// with the status its outcome calls for.
enum ClientCommand {
    static func main(_ spec: CommandSpec, _ arguments: ParsedArguments) throws(UsageError) -> Never {
        let request = try request(spec, arguments)
        let json = arguments.has("json")
        let client: ControlClient
        do throws(ControlClient.Failure) {
            client = try ControlClient(path: ControlPath.resolve(arguments))
            if request.command == .call { cancelOnInterrupt() }
            if request.command == .events { try noteTargetsNotLoaded(request, on: client, spec) }
            try client.send(request)
            while true {
                switch try client.receive() {
                case .item(let item):
                    Console.out(json ? item.sortedDescription : request.command == .logs ? Render.log(item) : request.command == .call ? Render.text(item) : Render.event(item))
                case .success(let result):
                    // A streamed call's parts and final value were its items.
                    if request.stream { exit(ExitCode.success.rawValue) }
                    exit(show(result, of: request, arguments: arguments).rawValue)
                case .failure(let failure):
                    if json {
                        Console.out(ControlReply.failure(failure).json.sortedDescription)
                    } else {
                        Console.error("luminal \(spec.name): \(TerminalText.escaped(LogText.indentingContinuations(failure.message), keepingNewlines: true))")
                    }
                    exit(ExitCode(failure.code).rawValue)
                }
            }
        } catch {
            Console.error("luminal \(spec.name): \(error)")
            exit((error.notRunning ? ExitCode.notRunning : .connectionLost).rawValue)
        }
    }

    /// Ctrl-C ends the command at once: the connection closes, which has the supervisor cancel
    /// the call (its photon is told, if it reads cancels).
    private static func cancelOnInterrupt() {
        signal(SIGINT) { _ in
            let message: StaticString = "luminal call: interrupted; the call is cancelled\n"
            _ = write(2, message.utf8Start, message.utf8CodeUnitCount)
            _exit(ExitCode.interrupted.rawValue)
        }
    }

    /// The request the command line asks for.
    private static func request(_ spec: CommandSpec, _ arguments: ParsedArguments) throws(UsageError) -> ControlRequest {
        let command = ControlRequest.Command(rawValue: spec.name)!
        try checkAll(spec, arguments)
        // Paths go out absolute: the supervisor's working directory is not the client's.
        let targets = command == .call ? arguments.operands : arguments.operands.map { command == .load || $0.contains("/") ? absolute($0) : $0 }
        var request = ControlRequest(command, targets: targets, force: arguments.has("force"),
                                     follow: arguments.has("follow") || command == .events)
        request.parts = true
        if command == .call {
            request.targets = [arguments.operands[0]]
            request.method = arguments.operands[1]
            if arguments.operands.count == 3 {
                do throws(ProtocolFault) {
                    request.params = try JSONValue.parse(arguments.operands[2])
                } catch {
                    throw UsageError(command: spec.name, "parameters '\(arguments.operands[2])' are not JSON: \(error.detail) (write strings in quotes, e.g. '\"Ada\"')")
                }
            }
            request.stream = arguments.has("stream")
            if let timeout = arguments.values["timeout"] {
                guard let seconds = Double(timeout), seconds > 0 else { throw UsageError(command: spec.name, "--timeout needs a positive number of seconds, got '\(timeout)'") }
                request.timeout = seconds
            }
        }
        if command == .events { try filterEvents(&request, spec, arguments) }
        if let lines = arguments.values["lines"] {
            guard let count = Int(lines), count >= 0 else { throw UsageError(command: spec.name, "--lines needs a whole number ≥ 0, got '\(lines)'") }
            request.lines = count
        }
        return request
    }

    /// Says on standard error which targets of an `events` request name nothing loaded now (asked
    /// with `status` on the same connection): they are followed all the same, and their events
    /// show once they are loaded, but a mistyped name is not left to look like a quiet photon.
    private static func noteTargetsNotLoaded(_ request: ControlRequest, on client: ControlClient, _ spec: CommandSpec) throws(ControlClient.Failure) {
        for target in request.targets {
            try client.send(ControlRequest(.status, targets: [target]))
            var reply = try client.receive()
            while case .item = reply { reply = try client.receive() }
            if case .failure(let failure) = reply, failure.code == .notFound {
                Console.error("luminal \(spec.name): no photon or photon file '\(TerminalText.escaped(target))' is loaded now; its events show once it is")
            }
        }
    }

    /// `events --since N --photon NAME|PATH --kind KIND`: photon names and kinds may come as comma
    /// lists (neither has a comma); a path (with a `/`) is taken whole and made absolute.
    private static func filterEvents(_ request: inout ControlRequest, _ spec: CommandSpec, _ arguments: ParsedArguments) throws(UsageError) {
        if let since = arguments.values["since"] {
            guard let count = Int(since), count >= 0 else { throw UsageError(command: spec.name, "--since needs a whole number ≥ 0, got '\(since)'") }
            request.since = count
        }
        func list(_ option: String, paths: Bool) throws(UsageError) -> [String] {
            var items: [String] = []
            for value in arguments.allValues[option] ?? [] {
                if paths, value.contains("/") {
                    items.append(absolute(value))
                    continue
                }
                let parts = value.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                guard !parts.contains(where: \.isEmpty) else { throw UsageError(command: spec.name, "--\(option) has an empty item in '\(value)'") }
                items += parts
            }
            return items
        }
        request.targets = try list("photon", paths: true)
        request.kinds = try list("kind", paths: false)
    }

    /// `--all` and names exclude each other; `stop` and `restart`, which take every photon down at
    /// once, act on all of them only when `--all` says so (as `supervisorctl stop all`), never
    /// because no name was given.
    private static func checkAll(_ spec: CommandSpec, _ arguments: ParsedArguments) throws(UsageError) {
        let all = arguments.has(OptionSpec.all.long)
        if all, !arguments.operands.isEmpty {
            throw UsageError(command: spec.name, "takes NAME|PATH… or --all, not both (got \(arguments.operands.joined(separator: " ")) and --all)")
        }
        if !all, arguments.operands.isEmpty, spec.name == CommandList.stop.name || spec.name == CommandList.restart.name {
            throw UsageError(command: spec.name, "names no photon: give NAME|PATH…, or --all to \(spec.name) every photon")
        }
    }

    /// Prints a successful result; returns the exit status.
    private static func show(_ result: JSONValue, of request: ControlRequest, arguments: ParsedArguments) -> ExitCode {
        let style = Style.current
        let items = result.arrayValue ?? []
        if request.command == .status, arguments.has("check") {
            let unhealthy = Readiness.unready(items)
            if arguments.has("json") {
                Console.out(JSONValue.array(unhealthy).sortedDescription)
                return unhealthy.isEmpty ? .success : .unhealthy
            }
            for item in unhealthy {
                if let note = Render.failureNote(item), item["name"]?.stringValue == nil {
                    Console.out(note)
                } else {
                    // A photon by its name; a photon file not loaded (yet) by its path.
                    let who = item["name"]?.stringValue == nil ? item["file"] : item["name"]
                    Console.out("\(Render.text(who)): \(Render.text(item["state"]))")
                }
            }
            return unhealthy.isEmpty ? .success : .unhealthy
        }
        if arguments.has("json") {
            if let document = jsonDocument(result, of: request.command) { Console.out(document.sortedDescription) }
            return .success
        }
        switch request.command {
        case .status, .start, .restart, .reload, .load:
            let rows = photonRows(result, of: request.command)
            if rows.isEmpty { Console.out("no photons") }
            if !rows.isEmpty { Render.status(rows, style: style).forEach(Console.out) }
        case .stop, .unload:
            for outcome in items { Console.out(Render.outcome(outcome, verb: request.command == .stop ? "stopped" : "unloaded")) }
        case .call:
            Console.out(Render.text(result))
        case .metrics:
            // The exposition ends with a newline of its own. Exact into a pipe or a file (what
            // Prometheus' tools read); on a terminal, names' control characters are shown escaped.
            let text = String((result.stringValue ?? "").dropLast())
            Console.out(isatty(1) == 1 ? TerminalText.escaped(text, keepingNewlines: true) : text)
        case .logs, .events:
            break
        }
        return .success
    }

    /// What `--json` prints for a command's result: one JSON document (README, "The `luminal`
    /// command"). The status objects of `start` and `restart` in one array, as `status` gives
    /// them, not one array per photon file; `metrics` as its families, not the exposition's text;
    /// nil for `logs` and `events`, whose items were printed one a line.
    private static func jsonDocument(_ result: JSONValue, of command: ControlRequest.Command) -> JSONValue? {
        switch command {
        case .start, .restart: .array(photonRows(result, of: command))
        case .metrics: ExpositionJSON.families(of: result.stringValue ?? "")
        case .logs, .events: nil
        case .status, .stop, .reload, .load, .unload, .call: result
        }
    }

    /// The status objects of a result: `start` and `restart` answer one array per photon file.
    private static func photonRows(_ result: JSONValue, of command: ControlRequest.Command) -> [JSONValue] {
        let items = result.arrayValue ?? []
        return command == .start || command == .restart ? items.flatMap { $0.arrayValue ?? [] } : items
    }
}
