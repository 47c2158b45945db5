#if canImport(Glibc)
import Glibc
#endif
import Luminal
import LuminalWire

/// Human-readable forms of the supervisor's replies; text from photons has its control
/// characters escaped (`TerminalText`).
enum Render {
    /// The photons as a table: NAME STATE PID GEN RESTARTS UPTIME FILE, each instance of a pool
    /// on a row of its own ("  #2") under its photon; then, one line each, why
    /// each failed photon file failed and each failed reload of a serving one, and the sockets
    /// each file holds.
    static func status(_ photons: [JSONValue], style: Style) -> [String] {
        var table = Table(headings: ["NAME", "STATE", "PID", "GEN", "RESTARTS", "UPTIME", "FILE"])
        var notes: [String] = []
        for photon in photons {
            let running = photon["uptime"]?.doubleValue != nil
            table.rows.append([
                optional(photon["name"]), text(photon["state"]), running ? text(photon["pid"]) : "-", optional(photon["generation"]),
                optional(photon["restarts"]), photon["uptime"]?.doubleValue.map(duration) ?? "-", text(photon["file"]),
            ])
            for instance in photon["instances"]?.arrayValue ?? [] {
                let up = instance["uptime"]?.doubleValue
                table.rows.append([
                    "  #\(text(instance["instance"]))", text(instance["state"]), up != nil ? text(instance["pid"]) : "-",
                    optional(instance["generation"]), optional(instance["restarts"]), up.map(duration) ?? "-", "",
                ])
            }
            for note in [failureNote(photon), socketsNote(photon)] {
                if let note, !notes.contains(note) { notes.append(note) }
            }
        }
        return table.render(style: style) { column, cell in column == 1 ? style.state(cell) : cell } + notes
    }

    /// "FILE: failed 3 times in a row (for 1m04s): CAUSE" (and whether it is stopped), or "FILE: a reload failed …; generation
    /// N keeps serving", on one line; nil for a photon with neither.
    static func failureNote(_ item: JSONValue) -> String? {
        let file = text(item["file"])
        if let error = item["error"]?["message"] {
            let times = item["failures"]?.intValue.map { $0 == 1 ? "once" : "\($0) times in a row" } ?? "once"
            let held = item["stopped"]?.boolValue == true ? "; stopped: tried again only by luminal start" : ""
            return "\(file): failed \(times) (for \(item["for"]?.doubleValue.map(duration) ?? "-")): \(oneLine(error))\(held)"
        }
        if let failure = item["reloadFailure"], let reason = failure["reason"] {
            let times = failure["failures"]?.intValue.map { $0 == 1 ? "a reload" : "\($0) reloads in a row" } ?? "a reload"
            return "\(file): \(times) failed at step '\(text(failure["step"]))': \(oneLine(reason)); generation \(text(item["generation"])) keeps serving"
        }
        return nil
    }

    /// "FILE: listening on tcp:127.0.0.1:8080, unix:/srv/app/run/app.sock" for a photon whose file
    /// holds sockets (`sockets` in its manifest); nil for one without.
    static func socketsNote(_ item: JSONValue) -> String? {
        guard let sockets = item["sockets"]?.arrayValue, !sockets.isEmpty else { return nil }
        return "\(text(item["file"])): listening on \(sockets.map(text).joined(separator: ", "))"
    }

    /// A message's text with its line breaks as spaces, escaped.
    private static func oneLine(_ value: JSONValue) -> String {
        TerminalText.escaped((value.stringValue ?? value.sortedDescription).split(whereSeparator: \.isNewline).joined(separator: " "))
    }

    /// `text`, or "-" for an absent or null value.
    private static func optional(_ value: JSONValue?) -> String {
        guard let value, value != .null else { return "-" }
        return text(value)
    }

    /// How stopping or unloading a photon file went: "stopped first (/srv/first): clean, exit code 0".
    /// A photon file that had failed to load: "unloaded /srv/web: it had failed to load; nothing ran"
    /// (and, once stopped, that only a start tries it again).
    static func outcome(_ outcome: JSONValue, verb: String) -> String {
        if outcome["ending"] == "notLoaded" {
            let held = verb == "stopped" ? "; it is tried again only by luminal start" : ""
            return "\(verb) \(text(outcome["file"])): it had failed to load; nothing ran\(held)"
        }
        let photons = outcome["photons"]?.arrayValue?.map(text).joined(separator: ", ") ?? ""
        let exit = outcome["exit"]?.stringValue.map { ", \($0)" } ?? ""
        let finalizers = outcome["finalizerErrors"]?.objectValue?.sorted { $0.key < $1.key }.map { "; finalizer of \($0.key) failed: \(text($0.value))" }.joined() ?? ""
        return "\(verb) \(photons) (\(text(outcome["file"]))): \(text(outcome["ending"]))\(exit)\(finalizers)"
    }

    /// A log line: "12:04:05 [greeter] hello" or "12:04:05 luminal: info: loaded …".
    static func log(_ entry: JSONValue) -> String {
        let time = entry["time"]?.doubleValue.map(clock) ?? ""
        if let photon = entry["photon"]?.stringValue { return "\(time) [\(TerminalText.escaped(photon))] \(text(entry["message"]))" }
        let message = TerminalText.escaped(LogText.indentingContinuations(entry["message"]?.stringValue ?? ""), keepingNewlines: true)
        return "\(time) luminal: \(text(entry["level"])): \(message)"
    }

    /// An event: its name, then its members as key=value.
    static func event(_ event: JSONValue) -> String {
        let members = (event.objectValue ?? [:]).filter { $0.key != "event" }.sorted { $0.key < $1.key }
        return ([text(event["event"])] + members.map { "\($0.key)=\(text($0.value))" }).joined(separator: " ")
    }

    /// A JSON value as a person reads it: strings without quotes, the rest as JSON; control
    /// characters escaped.
    static func text(_ value: JSONValue?) -> String {
        guard let value else { return "" }
        return TerminalText.escaped(value.stringValue ?? value.sortedDescription)
    }

    /// "4.2s", "3m10s", "2h05m", "3d04h".
    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds)
        switch whole {
        case ..<60: return String(Double(Int(seconds * 10)) / 10) + "s"
        case ..<3600: return "\(whole / 60)m\(two(whole % 60))s"
        case ..<86_400: return "\(whole / 3600)h\(two(whole / 60 % 60))m"
        default: return "\(whole / 86_400)d\(two(whole / 3600 % 24))h"
        }
    }

    /// Local time of day, "HH:MM:SS".
    static func clock(_ epochSeconds: Double) -> String {
        var seconds = time_t(epochSeconds)
        var parts = tm()
        localtime_r(&seconds, &parts)
        return "\(two(Int(parts.tm_hour))):\(two(Int(parts.tm_min))):\(two(Int(parts.tm_sec)))"
    }

    private static func two(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}
