/// The endpoint cannot be used: a refusal that retrying will not fix, or retries used up. Says what to check.
public struct EndpointError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }

    /// The advice for a status that will not change by asking again.
    static func advice(status: Int) -> String {
        switch status {
        case 401, 403: return "the server refused the credentials: pass --api-key-env VAR naming a variable that holds a valid key"
        case 404: return "no such route or model: --endpoint must be the API base that serves /chat/completions (e.g. http://host:8000/v1) and --model a model the server lists at /models"
        case 400, 422: return "the server rejected the request; its message is above (a context limit? raise the server's context size or lower --batch)"
        default: return "check the server's log"
        }
    }
}
