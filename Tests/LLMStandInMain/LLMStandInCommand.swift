import ArgumentParser
import Foundation
import LLMStandIn

/// `llm-stand-in`: the tests' stand-in chat-completions server as a process, for trying `uniguard synthesize`
/// (and measuring its requests and tokens) without an LLM. Its replies are labelled stand-in output.
@main
struct LLMStandInCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "llm-stand-in",
        abstract: "A stand-in OpenAI-compatible /v1/chat/completions server on loopback (deterministic stand-in content, optional faults)."
    )

    enum Formats: String, ExpressibleByArgument, CaseIterable { case jsonSchema = "json_schema", jsonObject = "json_object", text }

    @Option(help: "Port on 127.0.0.1 (0 picks a free one; the endpoint is printed).") var port = 0
    @Option(help: "Structured output the server accepts: json_schema (and json_object), json_object only, or text only.") var formats: Formats = .jsonSchema
    @Option(help: "Every N-th request is answered 429 with Retry-After: 1 (0 = never).") var rateLimitEvery = 0
    @Option(help: "Every N-th request is answered 500 (0 = never).") var serverErrorEvery = 0
    @Option(help: "Every N-th reply ignores the schema (0 = never).") var ignoreSchemaEvery = 0
    @Option(help: "One judged prompt in N gets the other label (0 = never).") var disagreeOneIn = 7
    @Option(help: "One generated prompt in N repeats a fixed text (0 = never).") var repeatOneIn = 6

    func run() async throws {
        var behaviour = StandInBehaviour()
        behaviour.formats = switch formats { case .jsonSchema: .jsonSchema; case .jsonObject: .jsonObjectOnly; case .text: .textOnly }
        if rateLimitEvery > 0 { behaviour.every.append((rateLimitEvery, .rateLimited(retryAfter: "1"))) }
        if serverErrorEvery > 0 { behaviour.every.append((serverErrorEvery, .serverError)) }
        if ignoreSchemaEvery > 0 { behaviour.every.append((ignoreSchemaEvery, .ignoresSchema)) }
        behaviour.disagreeOneIn = disagreeOneIn
        behaviour.repeatOneIn = repeatOneIn
        let server = try await LLMStandIn.start(behaviour, port: port)
        // Unbuffered, so a script reading the first line gets it at once.
        FileHandle.standardOutput.write(Data((server.endpoint + "\n").utf8))
        // Serve until killed.
        while true { try await Task.sleep(nanoseconds: 3_600_000_000_000) }
    }
}
