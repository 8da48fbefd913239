public import Hummingbird
import HTTPTypes
import Foundation
public import Logging
import SuiteStorage

/// The conventions every route shares, as one middleware at the front of the router:
/// - a request id: the caller's `X-Request-Id` when it is 1–200 visible ASCII characters, else
///   Hummingbird's; echoed on every answer;
/// - every thrown error as problem details (``Problem``), including the router's own 404s;
/// - 405 with `Allow` for a path the API has, asked with another method;
/// - 413 for a body declared (`Content-Length`) over 1 MiB, on every route, before any route
///   runs (a route that reads its body also stops at 1 MiB when no length is declared);
/// - one log line per request: method, path, status, duration and request id;
/// - one reading of the database's change counter for all of a request's cache lookups
///   (``SuiteStorage/ChangeCounterReading``).
public struct APIMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Every endpoint the router serves (for 405).
    let endpoints: [Endpoint]
    let logger: Logger

    /// The middleware for a router serving `endpoints`, logging to `logger`.
    public init(endpoints: [Endpoint], logger: Logger) {
        self.endpoints = endpoints
        self.logger = logger
    }

    /// Handles one request.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let requestID = Self.requestID(request.headers[.requestID]) ?? context.id
        var response: Response
        var head = request.head
        head.headerFields[.requestID] = requestID  // inner middleware reads it (a kept problem carries it)
        let request = Request(head: head, body: request.body)
        do {
            if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maximumRequestBody {
                throw Problem(.contentTooLarge, code: "payload_too_large", detail: "The request body is over 1 MiB")
            }
            // One change-counter reading for the request's cache lookups (its API key, a verification).
            response = try await ChangeCounterReading.sharing { try await next(request, context) }
        } catch {
            var problem = Problem(for: error)
            var allowed: [String] = []
            if (error as? HTTPError)?.status == .notFound {  // the router matched no route
                for endpoint in endpoints where endpoint.matches(request.uri.path) && !allowed.contains(endpoint.method.rawValue) {
                    allowed.append(endpoint.method.rawValue)
                }
                if allowed.contains(request.method.rawValue) { allowed = [] }
                if !allowed.isEmpty {
                    problem = Problem(.methodNotAllowed, code: "method_not_allowed",
                                      detail: "\(request.method.rawValue) is not allowed here; use \(allowed.joined(separator: ", "))")
                }
            }
            if problem.status >= 500 {
                logger.error("request failed", metadata: ["request_id": "\(requestID)", "error": "\(String(reflecting: error))"])
            }
            response = try problem.response(requestID: requestID)
            if !allowed.isEmpty { response.headers[.allow] = allowed.joined(separator: ", ") }
            if problem.status == 401 { response.headers[.wwwAuthenticate] = "Bearer" }
        }
        response.headers[.requestID] = requestID
        let elapsed = ContinuousClock.now - started
        logger.info("request", metadata: [
            "method": .string(request.method.rawValue), "path": .string(request.uri.path), "status": .stringConvertible(response.status.code),
            "ms": .string(Self.milliseconds(elapsed)), "request_id": .string(requestID),
        ])
        return response
    }

    /// `duration` in milliseconds to the microsecond, as `12.345`.
    static func milliseconds(_ duration: Duration) -> String {
        let micros = duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000
        let fraction = String(micros % 1_000)
        return "\(micros / 1_000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }

    static func requestID(_ given: String?) -> String? {
        guard let given, (1...200).contains(given.utf8.count),
              given.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else { return nil }
        return given
    }
}
