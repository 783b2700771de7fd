import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Where and how to reach an OpenAI-compatible server.
public struct EndpointSettings: Sendable, Hashable {
    /// The API base, e.g. `http://127.0.0.1:8080/v1`; requests go to `{endpoint}/chat/completions`.
    public var endpoint: String
    /// Sent as `Authorization: Bearer <key>`; never logged.
    public var apiKey: String?
    /// Seconds one request may take from sending to the last byte of the reply.
    public var requestTimeout: Double
    public var retry: RetryPolicy
    /// Connections kept open to the server (the run's concurrency).
    public var connections: Int

    public init(endpoint: String, apiKey: String? = nil, requestTimeout: Double = 120, retry: RetryPolicy = RetryPolicy(), connections: Int = 4) {
        self.endpoint = endpoint; self.apiKey = apiKey; self.requestTimeout = requestTimeout
        self.retry = retry; self.connections = connections
    }

    /// `{endpoint}/chat/completions`, with one slash between.
    public var completionsURL: String {
        var base = endpoint
        while base.hasSuffix("/") { base.removeLast() }
        return base + "/chat/completions"
    }
}

/// `POST {endpoint}/chat/completions` over async-http-client, asked again on 429 / 5xx (honouring `Retry-After`),
/// timeouts, lost connections and unusable replies, with exponential back-off; a server that rejects a
/// `response_format` is asked one level down (`ResponseFormatLadder`). Every attempt is counted in `tally`.
public final class ChatCompletionsClient: Sendable {
    public let settings: EndpointSettings
    public let tally = UsageTally()
    public let formats: ResponseFormatLadder
    private let http: HTTPClient
    private let logger: Logger

    /// The largest reply body read; a chat reply is a few kilobytes.
    static let maxReplyBytes = 16 << 20

    public init(settings: EndpointSettings, startLevel: ResponseFormatLevel = .jsonSchema, logger: Logger = Logger(label: "uniguard.synthesize")) {
        self.settings = settings
        self.logger = logger
        formats = ResponseFormatLadder(start: startLevel)
        var configuration = HTTPClient.Configuration()
        let timeout = TimeAmount.milliseconds(Int64(max(settings.requestTimeout, 0.001) * 1000))
        // A refused connection is retried by the pool until the connect timeout: no longer than a request may take.
        configuration.timeout = .init(connect: min(.seconds(10), timeout), read: timeout)
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, settings.connections))
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Closes the connections; call once when done.
    public func shutdown() async throws { try await http.shutdown() }

    /// Asks until a reply's content passes `parse` (which throws `ReplyProblem` for an unusable one) or the
    /// retries are used up (`EndpointError`). `purpose` names the request in log lines.
    public func complete<T: Sendable>(_ request: ChatRequest, purpose: String,
                                      parse: @Sendable (String) throws -> T) async throws -> T {
        var request = request
        var retries = 0
        while true {
            let level = formats.level
            var retryAfter: Double?
            let problem: String
            switch await send(request, level: level) {
            case .reply(let completion):
                do {
                    let value = try parse(completion.content)
                    tally.record { $0.completions += 1 }
                    return value
                } catch let bad as ReplyProblem {
                    tally.record { $0.malformedReplies += 1 }
                    problem = "unusable reply (\(bad))" + (completion.finishReason == "length" ? "; it was cut at max_tokens" : "")
                    // The same seed at the same temperature may give the same bad reply: vary it.
                    request.seed = request.seed.map { $0 &+ 0x9E37_79B9 }
                }
            case .malformed(let bad):
                tally.record { $0.malformedReplies += 1 }
                problem = "unusable reply (\(bad))"
            case .formatRejected(let status, let message):
                if let step = formats.stepDown(from: level) {
                    tally.record { $0.formatRejected += 1 }
                    if step.changed {
                        tally.record { $0.formatFallbacks += 1 }
                        logger.notice("\(purpose): the server rejected response_format \(level) (HTTP \(status): \(message)); using \(step.level) from now on")
                    }
                    continue
                }
                throw EndpointError("\(purpose): HTTP \(status) from \(settings.completionsURL): \(message)\n\(EndpointError.advice(status: status))")
            case .fatal(let status, let message):
                throw EndpointError("\(purpose): HTTP \(status) from \(settings.completionsURL): \(message)\n\(EndpointError.advice(status: status))")
            case .retriable(let reason, let after):
                problem = reason
                retryAfter = after
            }
            retries += 1
            guard retries <= settings.retry.maxRetries else {
                throw EndpointError("\(purpose): gave up after \(retries) attempts to \(settings.completionsURL); last: \(problem). Samples accepted so far are kept: run the same command again to resume.")
            }
            let wait = settings.retry.delay(retry: retries, retryAfter: retryAfter, jitter: Double.random(in: 0...1))
            logger.warning("\(purpose): \(problem); attempt \(retries + 1) of \(settings.retry.maxRetries + 1) in \(String(format: "%.2f", wait)) s")
            try await Task.sleep(nanoseconds: UInt64(wait * 1e9))
        }
    }

    private enum Outcome {
        case reply(ChatCompletion)
        case malformed(ReplyProblem)
        case formatRejected(status: Int, message: String)
        case fatal(status: Int, message: String)
        case retriable(String, retryAfter: Double?)
    }

    private func send(_ request: ChatRequest, level: ResponseFormatLevel) async -> Outcome {
        let body: Data
        do { body = try request.body(level: level) } catch { return .fatal(status: 0, message: "cannot encode the request: \(error)") }
        var http = HTTPClientRequest(url: settings.completionsURL)
        http.method = .POST
        http.headers.add(name: "Content-Type", value: "application/json")
        http.headers.add(name: "Accept", value: "application/json")
        if let key = settings.apiKey { http.headers.add(name: "Authorization", value: "Bearer \(key)") }
        http.body = .bytes(ByteBuffer(bytes: body))
        tally.record { $0.requests += 1 }
        let status: Int
        let text: Data
        let retryAfter: String?
        do {
            let timeout = TimeAmount.milliseconds(Int64(max(settings.requestTimeout, 0.001) * 1000))
            let response = try await self.http.execute(http, timeout: timeout)
            status = Int(response.status.code)
            retryAfter = response.headers.first(name: "Retry-After")
            var buffer = try await response.body.collect(upTo: Self.maxReplyBytes)
            text = Data(buffer.readBytes(length: buffer.readableBytes) ?? [])
        } catch is CancellationError {
            return .fatal(status: 0, message: "cancelled")
        } catch {
            tally.record { $0.transportErrors += 1 }
            return .retriable("no reply (\(Self.describe(error)))", retryAfter: nil)
        }
        let message = ReplyProblem.excerpt(String(decoding: text, as: UTF8.self), limit: 300)
        switch status {
        case 200..<300:
            do {
                let completion = try ChatCompletion.decode(text)
                tally.record { $0.promptTokens += completion.promptTokens; $0.completionTokens += completion.completionTokens }
                return .reply(completion)
            } catch let bad as ReplyProblem {
                return .malformed(bad)
            } catch {
                return .malformed(ReplyProblem("\(error)"))
            }
        case 429:
            tally.record { $0.rateLimited += 1 }
            return .retriable("HTTP 429 (rate limited)", retryAfter: RetryPolicy.retryAfterSeconds(retryAfter))
        case 408, 500...599:
            tally.record { $0.serverErrors += 1 }
            return .retriable("HTTP \(status) \(message)", retryAfter: RetryPolicy.retryAfterSeconds(retryAfter))
        case let code where (code == 400 || code == 422) && level != .text && Self.mentionsResponseFormat(text):
            return .formatRejected(status: status, message: message)
        default:
            return .fatal(status: status, message: message)
        }
    }

    /// Whether an error body is about the structured-output request (so a simpler format may be accepted).
    static func mentionsResponseFormat(_ body: Data) -> Bool {
        let text = String(decoding: body, as: UTF8.self).lowercased()
        return ["response_format", "json_schema", "json_object", "schema"].contains { text.contains($0) }
    }

    static func describe(_ error: Error) -> String {
        if let e = error as? HTTPClientError {
            switch e {
            case .deadlineExceeded, .readTimeout: return "timed out"
            case .connectTimeout: return "connect timed out"
            case .remoteConnectionClosed: return "the server closed the connection"
            default: return "\(e)"
            }
        }
        return "\(error)"
    }
}
