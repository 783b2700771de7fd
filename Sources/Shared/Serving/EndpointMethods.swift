import Hummingbird

/// Which methods each endpoint answers: the same path asked with another method is a 405 naming them (RFC 9110
/// §15.5.6: with an `Allow` header), not a 404 that would send a client looking for a path that exists.
enum EndpointMethods {
    static let allowed: [String: [HTTPRequest.Method]] = [
        "/v1/moderations": [.post], "/v1/classify": [.post],
        "/v1/models": [.get, .head], "/healthz": [.get, .head], "/readyz": [.get, .head], "/metrics": [.get, .head],
    ]

    /// A 405 with `Allow` and the JSON error when `request` names a known path with a method it does not answer.
    static func notAllowed(_ request: Request, context: some RequestContext) throws -> Response? {
        guard let methods = allowed[request.uri.path], !methods.contains(request.method) else { return nil }
        let list = methods.map(\.rawValue).joined(separator: ", ")
        var response = try APIError(.methodNotAllowed, "\(request.uri.path) does not answer \(request.method.rawValue); use \(list)",
                                    param: "method").response(from: request, context: context)
        response.headers[.allow] = list
        return response
    }
}
