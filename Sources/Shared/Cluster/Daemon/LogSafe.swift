/// Peer-controlled text made safe for one log line: control characters (newlines included) escaped, so a job's
/// YAML, a worker id or an error message cannot forge log lines; long text is cut.
public enum LogSafe {
    public static func text(_ text: String, limit: Int = 1000) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count >= limit {
                out += "... (\(text.unicodeScalars.count - limit) more characters)"
                break
            }
            count += 1
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\\": out += "\\\\"
            default:
                // C0, DEL, C1 and the Unicode line/paragraph separators also break or fake lines in terminals.
                let v = scalar.value
                if v < 0x20 || (0x7F...0x9F).contains(v) || v == 0x2028 || v == 0x2029 {
                    out += "\\u{\(String(v, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
