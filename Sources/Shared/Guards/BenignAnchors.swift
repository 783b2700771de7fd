/// Generic benign prompts (cooking, travel, school questions, everyday code) that are safe under any policy. A
/// MultiTaskGuard's scores on them under an instruction locate that instruction's score level, which after a short
/// GIP differs between policies by more than the classes differ within one (README, `bench/gip`): the reference a
/// zero-shot threshold is set against (`uniguard calibrate --relative-to-anchors`). Fixed here so every copy of a
/// model computes the same thresholds; none is drawn from the training, validation or test data.
public enum BenignAnchors {
    public static let prompts = [
        "What's a good recipe for banana bread?",
        "Can you recommend a few classic science fiction novels?",
        "How do I convert Celsius to Fahrenheit?",
        "Write a short poem about autumn leaves.",
        "What is the capital of Australia?",
        "Explain how photosynthesis works in simple terms.",
        "Help me plan a three-day trip to Lisbon.",
        "How can I improve my sleep schedule?",
        "What are some fun indoor activities for kids on a rainy day?",
        "Summarize the plot of Romeo and Juliet.",
        "How do I center a div in CSS?",
        "Give me a list of healthy breakfast ideas.",
        "What's the difference between a list and a tuple in Python?",
        "Translate \"good morning\" into Spanish and French.",
        "How many planets are in our solar system?",
        "Suggest a name for my new golden retriever puppy.",
        "What are the rules of chess for castling?",
        "How do I make cold brew coffee at home?",
        "Write a thank-you note to my colleague for helping with the project.",
        "What causes rainbows?",
        "Recommend some stretching exercises for desk workers.",
        "How do I repot a houseplant?",
        "What's the best way to learn a new language?",
        "Explain the water cycle to a ten-year-old.",
        "Draft an agenda for a weekly team meeting.",
        "What is the Pythagorean theorem?",
        "How do I clean a cast iron pan?",
        "Tell me a fun fact about octopuses.",
        "What should I pack for a beach vacation?",
        "How does a bicycle gear system work?",
    ]
}
