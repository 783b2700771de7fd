import Foundation
import Hummingbird
import Logging

/// A stand-in for an outside LLM service: an OpenAI-compatible `POST /v1/chat/completions` server on loopback
/// (Hummingbird), answering with real chat-completions JSON (`choices[].message.content`, `finish_reason`,
/// `usage`), honouring or rejecting `response_format` like real servers, and injecting faults on demand.
/// Its content is made deterministically from the request and marked as stand-in output. Token counts in
/// `usage` are estimates (a token per 4 characters, 4 per message), as no real tokenizer is involved.
public final class LLMStandIn: Sendable {
    public let port: Int
    public let behaviour: StandInBehaviour
    private let log: Log
    private let task: Task<Void, Error>

    /// `http://127.0.0.1:<port>/v1`, the API base a client is given.
    public var endpoint: String { "http://127.0.0.1:\(port)/v1" }

    /// Every request so far, in arrival order.
    public var requests: [StandInRecord] { log.records }

    /// Starts a server on a free loopback port (or `port`) and returns once it accepts connections.
    public static func start(_ behaviour: StandInBehaviour = StandInBehaviour(), port: Int = 0) async throws -> LLMStandIn {
        let log = Log()
        let router = Router()
        router.post("/v1/chat/completions") { request, _ -> Response in
            var request = request
            let body = try await request.collectBody(upTo: 8 << 20)
            return await Self.answer(Data(buffer: body), headers: request.headers, behaviour: behaviour, log: log)
        }
        router.get("/v1/models") { _, _ -> Response in
            Self.json(200, ["object": "list", "data": [["id": behaviour.model ?? "stand-in", "object": "model", "owned_by": "uniguard-llm-stand-in"]]])
        }
        let (ready, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "uniguard-llm-stand-in"),
                              onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0); continuation.finish() },
                              logger: { var l = Logger(label: "llm-stand-in"); l.logLevel = .critical; return l }())
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var bound = 0
        for await p in ready { bound = p }
        guard bound > 0 else { task.cancel(); throw StandInError("the stand-in did not start") }
        return LLMStandIn(port: bound, behaviour: behaviour, log: log, task: task)
    }

    private init(port: Int, behaviour: StandInBehaviour, log: Log, task: Task<Void, Error>) {
        self.port = port; self.behaviour = behaviour; self.log = log; self.task = task
    }

    /// Stops the server (in-flight requests are cut).
    public func stop() async {
        task.cancel()
        _ = try? await task.value
    }

    static func answer(_ body: Data, headers: HTTPFields, behaviour: StandInBehaviour, log: Log) async -> Response {
        let number = log.nextNumber()
        var record = StandInRecord(number: number, responseFormat: "none", task: "unknown", status: 200, fault: nil, received: Date())
        defer { log.append(record) }
        func fail(_ status: Int, _ message: String, type: String = "invalid_request_error", param: String? = nil, retryAfter: String? = nil) -> Response {
            record.status = status
            var error: [String: Any] = ["message": message, "type": type, "code": NSNull()]
            error["param"] = param ?? NSNull()
            return json(status, ["error": error], retryAfter: retryAfter)
        }
        if let key = behaviour.apiKey, headers[.authorization] != "Bearer \(key)" {
            return fail(401, "Incorrect API key provided.", type: "authentication_error")
        }
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            return fail(400, "We could not parse the JSON body of your request.")
        }
        guard let model = object["model"] as? String, !model.isEmpty else { return fail(400, "you must provide a model parameter", param: "model") }
        if let expected = behaviour.model, model != expected {
            return fail(404, "The model `\(model)` does not exist or you do not have access to it.", type: "invalid_request_error", param: "model")
        }
        guard let messages = object["messages"] as? [[String: Any]], !messages.isEmpty else { return fail(400, "'messages' is a required property", param: "messages") }
        let format = (object["response_format"] as? [String: Any])?["type"] as? String
        record.responseFormat = format ?? "none"
        switch (format, behaviour.formats) {
        case ("json_schema", .jsonObjectOnly), ("json_schema", .textOnly), ("json_object", .textOnly):
            return fail(400, "response_format type '\(format!)' is not supported by this server", param: "response_format")
        case (nil, _), ("json_schema", _), ("json_object", _):
            break
        case (let other?, _):
            return fail(400, "Invalid value: '\(other)'. Supported values are: 'json_object', 'json_schema', and 'text'.", param: "response_format.type")
        }
        let userText = messages.last { $0["role"] as? String == "user" }?["content"] as? String ?? ""
        let task = StandInContent.field("Task", in: userText) ?? "unknown"
        record.task = task
        let fault = behaviour.fault(forRequest: number)
        record.fault = fault
        switch fault {
        case .rateLimited(let after)?:
            return fail(429, "Rate limit reached for requests. Please try again later.", type: "requests", retryAfter: after)
        case .serverError?:
            return fail(500, "The server had an error while processing your request. Sorry about that!", type: "server_error")
        case .slow(let seconds)?:
            try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
        case .brokenBody?:
            record.status = 200
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{\"id\": \"chatcmpl-broken\", \"choices\": [{\"mess")))
        default:
            break
        }
        var payload: [String: Any]
        switch task {
        case "generate": payload = StandInContent.generate(request: userText, behaviour: behaviour)
        case "judge": payload = StandInContent.judge(request: userText, behaviour: behaviour)
        case "refine": payload = StandInContent.refine(request: userText)
        default: payload = ["note": "[stand-in] no Task: line in the request"]
        }
        if fault == .ignoresSchema {
            payload = ["answer": "[stand-in] Sure! Here are some ideas you could use, written as prose instead of the JSON you asked for."]
        }
        let data = (try? JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        var content = String(decoding: data, as: UTF8.self)
        var finish = "stop"
        if format == nil {
            content = "Here is the JSON you asked for:\n```json\n\(content)\n```\nLet me know if you need more."
        }
        if fault == .truncatedJSON {
            content = String(content.prefix(content.count / 2))
            finish = "length"
        }
        let promptChars = messages.reduce(0) { $0 + (($1["content"] as? String)?.count ?? 0) }
        let promptTokens = (promptChars + 3) / 4 + 4 * messages.count
        let completionTokens = (content.count + 3) / 4
        return json(200, [
            "id": "chatcmpl-standin-\(number)",
            "object": "chat.completion",
            "created": Int(Date().timeIntervalSince1970),
            "model": model,
            "system_fingerprint": "uniguard-llm-stand-in",
            "choices": [["index": 0, "message": ["role": "assistant", "content": content], "logprobs": NSNull(), "finish_reason": finish]],
            "usage": ["prompt_tokens": promptTokens, "completion_tokens": completionTokens, "total_tokens": promptTokens + completionTokens],
        ])
    }

    static func json(_ status: Int, _ object: [String: Any], retryAfter: String? = nil) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter { headers[.retryAfter] = retryAfter }
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The request log, shared by the handler's concurrent calls.
    final class Log: @unchecked Sendable {
        // @unchecked: every access goes through `lock`.
        private let lock = NSLock()
        private var count = 0
        private var stored: [StandInRecord] = []
        func nextNumber() -> Int { lock.withLock { count += 1; return count } }
        func append(_ record: StandInRecord) { lock.withLock { stored.append(record) } }
        var records: [StandInRecord] { lock.withLock { stored.sorted { $0.number < $1.number } } }
    }
}

/// The stand-in could not run.
public struct StandInError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
