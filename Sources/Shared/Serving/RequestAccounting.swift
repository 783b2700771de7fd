import Foundation
import Hummingbird

/// Counts and times every request by endpoint, model and status, and answers errors that are not ours yet (404,
/// 405, Hummingbird's own) as the same JSON error shape.
struct RequestAccounting: RouterMiddleware {
    typealias Context = ServingContext
    let metrics: ServingMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        // Unknown paths share one label so a scanner cannot blow up the metric's cardinality.
        let endpoint = EndpointMethods.allowed[request.uri.path] != nil ? request.uri.path : "other"
        let response: Response
        do {
            response = try await next(request, context)
        } catch let error as APIError {
            response = try error.response(from: request, context: context)
        } catch let error as HTTPError where error.status == .notFound && EndpointMethods.allowed[request.uri.path] != nil {
            response = try EndpointMethods.notAllowed(request, context: context)
                ?? APIError(error.status, "no such endpoint: \(request.method) \(request.uri.path)").response(from: request, context: context)
        } catch let error as HTTPError {
            let message = error.status == .notFound ? "no such endpoint: \(request.method) \(request.uri.path)" : (error.body ?? error.status.reasonPhrase)
            response = try APIError(error.status, message).response(from: request, context: context)
        } catch let error as any HTTPResponseError {
            response = try APIError(error.status, "\(error)").response(from: request, context: context)
        } catch {
            response = try APIError(.internalServerError, "\(error)", type: "server_error").response(from: request, context: context)
        }
        metrics.request(endpoint: endpoint, model: context.modelLabel.get(), status: response.status.code, duration: start.duration(to: .now))
        return response
    }
}
