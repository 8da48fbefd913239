public import Hummingbird
public import HTTPTypes
internal import NIOCore
import Foundation
import SuiteCore
import SuiteStorage

/// An error answer as RFC 9457 problem details (`application/problem+json`): the HTTP status, its
/// reason as the title, the library's one-line message as the detail, the library's error code,
/// and the request id. Never SQL, a stack trace or a Swift type name.
public struct Problem: Error, Encodable, Sendable, Equatable {
    /// Always `about:blank`: the `code` says which problem it is.
    public var type = "about:blank"
    /// The status's reason phrase, e.g. `Not Found`.
    public var title: String
    /// The HTTP status code.
    public var status: Int
    /// What went wrong, safe to show a user.
    public var detail: String
    /// The library's error code, e.g. `client_not_found`, or the HTTP layer's own
    /// (`route_not_found`, `method_not_allowed`, `payload_too_large`, `malformed_json`…).
    public var code: String
    /// The request's id, as echoed in `X-Request-Id`.
    public var requestID: String?

    /// A problem with `status`, `code` and `detail`.
    public init(_ status: HTTPResponse.Status, code: String, detail: String) {
        self.status = status.code
        title = status.reasonPhrase
        self.code = code
        self.detail = detail
    }

    /// The problem an error thrown by a route stands for. A library error keeps its code and
    /// message; its code decides the status. Anything else is a 500 whose detail says nothing of
    /// its cause (the request's log line has it).
    public init(for error: any Error) {
        switch error {
        case let problem as Problem:
            self = problem
        case let coded as any CodedError:
            let code = coded.code.rawValue
            let status = Self.status(forCode: code)
            self.init(status, code: code, detail: status.code >= 500 ? Self.unavailableDetail(code) : coded.message)
        case is NIOTooManyBytesError:
            self.init(.contentTooLarge, code: "payload_too_large", detail: "The request body is over 1 MiB")
        case let http as HTTPError:
            switch http.status {
            case .notFound: self.init(.notFound, code: "route_not_found", detail: "No such route")
            case .contentTooLarge: self.init(.contentTooLarge, code: "payload_too_large", detail: "The request body is over 1 MiB")
            default: self.init(http.status, code: "http_error", detail: http.body ?? http.status.reasonPhrase)
            }
        default:
            self.init(.internalServerError, code: "internal", detail: "The service could not complete the request")
        }
    }

    /// What a route answers to a key that may not use it: the same as for no route at all.
    public static var noRoute: Problem { Problem(.notFound, code: "route_not_found", detail: "No such route") }

    /// The HTTP status a library error code maps to.
    public static func status(forCode code: String) -> HTTPResponse.Status {
        switch code {
        case _ where code == "not_found" || code.hasSuffix("_not_found"): .notFound
        case "insufficient_credits", "insufficient_funds": HTTPResponse.Status(code: 402, reasonPhrase: "Payment Required")
        case "already_bound", "already_subscribed", "conflict", "duplicate_email", "duplicate_slug", "duplicate_user",
             "status_conflict", "status_transition_denied", "suspended", "account_frozen", "hold_not_pending", "hold_expired",
             "not_bound", "not_standalone", "unique_violation", "client_mismatch", "idempotency_in_progress":
            .conflict
        case "invalid_signature", "stale_webhook", "invalid_webhook": .badRequest
        case "unavailable", "busy", "disk_full", "read_only", "module_not_enabled": .serviceUnavailable
        case "decoding", "engine", "encryption", "signing", "commit_outcome_unknown", "invalid_location", "authentication",
             "invalid_configuration", "constraint_violation", "internal":
            .internalServerError
        default: .unprocessableContent  // validation, invalid_*, idempotency_conflict, mismatches
        }
    }

    private static func unavailableDetail(_ code: String) -> String {
        code == "commit_outcome_unknown"
            ? "The outcome of the request is unknown: retry it with the same Idempotency-Key"
            : "The service could not complete the request"
    }

    /// The problem with `requestID` filled in.
    func with(requestID: String?) -> Problem {
        var problem = self
        problem.requestID = requestID
        return problem
    }

    /// The problem as a response, with `requestID` filled in.
    public func response(requestID: String?) throws -> Response {
        var problem = self
        problem.requestID = requestID
        var headers = HTTPFields()
        headers[.contentType] = "application/problem+json"
        if let requestID { headers[.requestID] = requestID }
        let data = try SuiteJSON.encoder().encode(problem)
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension HTTPField.Name {
    /// `X-Request-Id`: the caller's id for the request, or one the server made; echoed on every answer.
    public static let requestID = HTTPField.Name("X-Request-Id")!
}
