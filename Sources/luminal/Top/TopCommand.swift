#if canImport(Glibc)
import Glibc
#endif
import Luminal
import LuminalDaemon
import LuminalWire

/// `luminal top`: every photon's state and figures, refreshed every second, until `q`.
enum TopCommand {
    static func main(_ spec: CommandSpec, _ arguments: ParsedArguments) throws(UsageError) -> Never {
        guard Terminal.isPresent else {
            Console.error("luminal top: needs a terminal on standard input and output; for scripts use 'luminal status --json' or 'luminal metrics'")
            exit(ExitCode.usage.rawValue)
        }
        var order = TopView.Order.name
        if let key = arguments.values["sort"] {
            guard let chosen = TopView.Order.allCases.first(where: { "\($0)" == key || $0.label == key || String($0.rawValue) == key }) else {
                throw UsageError(command: spec.name, "--sort takes one of \(TopView.Order.allCases.map { "\($0)" }.joined(separator: ", ")), got '\(key)'")
            }
            order = chosen
        }
        let client: ControlClient
        do throws(ControlClient.Failure) {
            client = try ControlClient(path: ControlPath.resolve(arguments))
        } catch {
            Console.error("luminal top: \(error)")
            exit((error.notRunning ? ExitCode.notRunning : .connectionLost).rawValue)
        }
        let terminal = Terminal()
        var previous: TopSample?
        var ending: (String, ExitCode)?
        while ending == nil {
            let current: TopSample
            do throws(Stopped) {
                current = try sample(client)
            } catch {
                ending = ("luminal top: \(error.message)", error.code)
                break
            }
            let before = previous
            draw(TopView(previous: before, current: current, order: order), order: order, on: terminal)
            previous = current
            // Keys within the second until the next refresh; a sort key redraws at once.
            let next = current.time + 1
            while ending == nil, monotonicSeconds() < next {
                let keys = terminal.keys(within: Int32(max(1, (next - monotonicSeconds()) * 1000)))
                for key in keys {
                    if key == UInt8(ascii: "q") || key == 3 { ending = ("", .success) }
                    if let chosen = TopView.Order(rawValue: Character(Unicode.Scalar(key))) {
                        order = chosen
                        draw(TopView(previous: before, current: current, order: order), order: order, on: terminal)
                    }
                }
            }
        }
        terminal.restore()
        if let (message, _) = ending, !message.isEmpty { Console.error(message) }
        exit((ending?.1 ?? .success).rawValue)
    }

    /// Why `top` cannot go on.
    private struct Stopped: Error {
        let message: String
        let code: ExitCode
    }

    /// Asks for `status` and `metrics` on one connection.
    private static func sample(_ client: ControlClient) throws(Stopped) -> TopSample {
        let status = try result(of: ControlRequest(.status), client)
        let metrics = try result(of: ControlRequest(.metrics), client)
        return TopSample(time: monotonicSeconds(), status: status, metrics: metrics.stringValue ?? "")
    }

    private static func result(of request: ControlRequest, _ client: ControlClient) throws(Stopped) -> JSONValue {
        let reply: ControlReply
        var request = request
        request.parts = true // with many photons, either can be larger than one frame
        do throws(ControlClient.Failure) {
            try client.send(request)
            reply = try client.receive() // status and metrics send no items
        } catch {
            throw Stopped(message: error.description, code: .connectionLost)
        }
        switch reply {
        case .success(let result): return result
        case .failure(let failure): throw Stopped(message: failure.message, code: ExitCode(failure.code))
        case .item: throw Stopped(message: "the supervisor sent an item where its reply was due", code: .connectionLost)
        }
    }

    private static func draw(_ view: TopView, order: TopView.Order, on terminal: Terminal) {
        let (rows, columns) = terminal.size
        let keys = TopView.Order.allCases.map { String($0.rawValue) }.joined(separator: " ")
        let header = "luminal top  \(view.rows.count) photons  sorted by \(order.label)  (sort: \(keys); q quits)"
        let body = view.lines(style: Style.current).prefix(max(0, rows - 2)).map { Terminal.cut($0, to: columns) }
        terminal.draw([Terminal.cut(header, to: columns), ""] + body)
    }

    private static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
