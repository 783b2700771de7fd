import Foundation

/// `uniguard classify --model M "-how do I deduct"`: ArgumentParser reads a dash-led argument as options (`-h`
/// of `-how` is help, exit 0: a script would get success and no JSON). A classify argument that starts with `-`
/// but is none of classify's options (nor looks like a mistyped long option) is the prompt: it is moved after `--`,
/// which ends option parsing.
enum DashPrompt {
    static func rewrite(_ arguments: [String]) -> [String] {
        guard arguments.first == ClassifyCommand.configuration.commandName, !arguments.contains("--") else { return arguments }
        let (names, valued) = optionNames
        var kept: [String] = [], prompts: [String] = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            let name = String(a.prefix { $0 != "=" })
            // `--modle` stays a typo ArgumentParser reports; `-how` or `--how do I` (with a space) is a prompt.
            let promptLike = !a.hasPrefix("--") || a.contains(where: \.isWhitespace)
            if i > 0, a.hasPrefix("-"), a != "-", promptLike, !names.contains(name) {
                prompts.append(a)
            } else {
                kept.append(a)
                // An option's value may itself start with a dash (`--policy -x.yaml`): it stays with its option.
                if valued.contains(a), i + 1 < arguments.count { kept.append(arguments[i + 1]); i += 1 }
            }
            i += 1
        }
        return prompts.isEmpty ? arguments : kept + ["--"] + prompts
    }

    /// classify's option names (and which take a value), read from the option column of its help so they follow
    /// the declarations (prose elsewhere in the help may quote dash-led words).
    static var optionNames: (all: Set<String>, valued: Set<String>) {
        var all: Set<String> = ["-h", "--help"], valued: Set<String> = []
        let pattern = try! NSRegularExpression(pattern: #"(?<![\w-])(--?[A-Za-z][\w-]*)( <[^>]+>)?"#)
        for line in ClassifyCommand.helpMessage(columns: 1000).split(separator: "\n") {
            let trimmed = line.drop { $0 == " " }
            guard trimmed.hasPrefix("-") else { continue }
            let column = String(trimmed.components(separatedBy: "  ")[0])
            for m in pattern.matches(in: column, range: NSRange(column.startIndex..., in: column)) {
                let name = String(column[Range(m.range(at: 1), in: column)!])
                all.insert(name)
                if m.range(at: 2).location != NSNotFound { valued.insert(name) }
            }
        }
        return (all, valued)
    }
}
