#if canImport(Glibc)
import Glibc
#endif
import Luminal
import LuminalWire

/// Human-readable forms of the supervisor's replies; text from photons has its control
/// characters escaped (`TerminalText`).
enum Render {
    /// The photons as a table: NAME STATE PID GEN RESTARTS UPTIME FILE.
    static func status(_ photons: [JSONValue], style: Style) -> [String] {
        var table = Table(headings: ["NAME", "STATE", "PID", "GEN", "RESTARTS", "UPTIME", "FILE"])
        for photon in photons {
            let running = photon["uptime"]?.doubleValue != nil
            table.rows.append([
                text(photon["name"]), text(photon["state"]), running ? text(photon["pid"]) : "-", text(photon["generation"]),
                text(photon["restarts"]), photon["uptime"]?.doubleValue.map(duration) ?? "-", text(photon["file"]),
            ])
        }
        return table.render(style: style) { column, cell in column == 1 ? style.state(cell) : cell }
    }

    /// How stopping or unloading a photon file went: "stopped first (/srv/first): clean, exit code 0".
    static func outcome(_ outcome: JSONValue, verb: String) -> String {
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
        return TerminalText.escaped(value.stringValue ?? value.description)
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
