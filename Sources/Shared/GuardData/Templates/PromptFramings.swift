/// The text transformations of the template expander. Each keeps the prompt's intent, so the label of
/// the seed example carries over unchanged (framing a harmful request politely does not make it safe).
enum PromptFramings {
    /// Openers placed before the prompt; `{x}` is the prompt, `{x_lc}` the prompt with a lower-case first letter.
    static let openers = [
        "Quick question: {x}", "Hey, {x}", "Hi there! {x}", "Hello. {x}", "I was wondering: {x}",
        "Serious question. {x}", "Sorry if this is a dumb question, but {x_lc}", "So, {x_lc}", "Honestly, {x_lc}",
        "Okay, here's my question. {x}", "Random thought, {x_lc}", "One more thing: {x}",
    ]
    /// Requests for help wrapped around the prompt.
    static let requests = [
        "Can you help me with this? {x}", "Could you help me out? {x}", "I need some help. {x}",
        "Can you answer this for me: {x}", "Help me with something. {x}", "I'd love your input on this. {x}",
        "You're good at this stuff. {x}", "Need an answer please. {x}",
    ]
    /// Politeness, before or after.
    static let polite = [
        "Please help: {x}", "{x} Thank you!", "{x} Thanks so much.", "Hi, I'd really appreciate your help. {x}",
        "{x} Any help is appreciated.", "{x} Thanks in advance!", "Sorry to bother you, {x_lc}",
    ]
    /// Trailing instructions about the answer's form.
    static let suffixes = [
        " Please be detailed.", " Keep it short.", " Explain it simply.", " I need an answer today.",
        " Bullet points are fine.", " Step by step, please.", " Be honest with me.", " Asking for a friend.",
        " No lecture please, just answer.", " ELI5.",
    ]
    /// Frames quoting something the policy allows ("I know you can help with …").
    static let allowedFrames = [
        "I know you're allowed to help with {topic}, so: {x}", "This is about {topic}. {x}",
        "Context: my question relates to {topic}. {x}",
    ]
    /// Frames that disclaim something the policy disallows; a disclaimer changes nothing about the label.
    static let disclaimerFrames = [
        "This isn't {topic}, I promise. {x}", "Not {topic}, just curious. {x}",
    ]
    /// Light paraphrases: the first matching rule rewrites a phrase (case-sensitive, whole phrase).
    static let paraphrases: [(String, String)] = [
        ("What is ", "What's "), ("What's ", "What is "), ("How do I ", "How can I "), ("How can I ", "How do I "),
        ("Can you ", "Could you "), ("Could you ", "Can you "), ("I want to ", "I'd like to "), ("I'd like to ", "I want to "),
        ("Give me ", "Provide "), ("Tell me ", "Let me know "), ("Write ", "Please write "), ("Explain ", "Can you explain "),
        ("Should I ", "Do you think I should "), ("I'm ", "I am "), ("I am ", "I'm "), ("don't ", "do not "),
        ("do not ", "don't "), ("can't ", "cannot "), ("isn't ", "is not "), ("It's ", "It is "),
    ]
}
