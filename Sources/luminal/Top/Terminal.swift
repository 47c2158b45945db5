#if canImport(Glibc)
import Glibc
#endif

/// The terminal `luminal top` draws on: raw keys, the alternate screen, its size.
final class Terminal {
    private var saved = termios()

    /// Whether standard input and output are both a terminal.
    static var isPresent: Bool { isatty(0) == 1 && isatty(1) == 1 }

    /// Takes the terminal: keys arrive one by one and unechoed (Ctrl-C as a key too), the
    /// alternate screen is shown and the cursor hidden, until `restore()`.
    init() {
        tcgetattr(0, &saved)
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG)
        raw.c_cc.6 = 1 // VMIN: a read returns once a key is there
        tcsetattr(0, TCSANOW, &raw)
        Console.write("\u{1B}[?1049h\u{1B}[?25l", to: 1)
    }

    /// Gives the terminal back as it was.
    func restore() {
        Console.write("\u{1B}[?25h\u{1B}[?1049l", to: 1)
        tcsetattr(0, TCSANOW, &saved)
    }

    /// Rows and columns now (24 × 80 if the terminal does not say).
    var size: (rows: Int, columns: Int) {
        var window = winsize()
        guard ioctl(1, UInt(TIOCGWINSZ), &window) == 0, window.ws_row > 0, window.ws_col > 0 else { return (24, 80) }
        return (Int(window.ws_row), Int(window.ws_col))
    }

    /// The keys pressed within `milliseconds` (none if none was).
    func keys(within milliseconds: Int32) -> [UInt8] {
        var poller = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, milliseconds) > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: 64)
        let count = read(0, &bytes, bytes.count)
        return count > 0 ? Array(bytes[..<count]) : [0x71] // end of input quits
    }

    /// Replaces the screen with `lines`.
    func draw(_ lines: [String]) {
        Console.write("\u{1B}[H\u{1B}[2J" + lines.joined(separator: "\r\n"), to: 1)
    }

    /// `line` cut to `columns` characters on the screen; colour sequences (`ESC [ … m`) take no
    /// room and are never split, and a cut line ends with a reset.
    static func cut(_ line: String, to columns: Int) -> String {
        var out = "", shown = 0, inEscape = false
        for character in line {
            if inEscape {
                out.append(character)
                inEscape = character != "m"
            } else if character == "\u{1B}" {
                out.append(character)
                inEscape = true
            } else {
                guard shown < columns else { return out + "\u{1B}[0m" }
                out.append(character)
                shown += 1
            }
        }
        return out
    }
}
