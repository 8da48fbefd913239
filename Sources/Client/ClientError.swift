public import SuiteCore

/// A failure of a Client operation. `description` uses the specification's wording
/// ("Duplicate Email", "Invalid Reseller", "Status Transition Denied") and is safe to show a user;
/// `debugDescription` adds detail for logs.
///
/// ```swift
/// do { try await clients.activate(refid) }
/// catch let error as ClientError where error.code == .statusTransitionDenied { … }
/// ```
public struct ClientError: CodedError {
    /// What went wrong. A struct so that codes can be added without breaking callers.
    public struct Code: ErrorCode {
        /// The code's snake_case text, e.g. `duplicate_email`.
        public let rawValue: String
        init(_ rawValue: String) { self.rawValue = rawValue }

        /// A field failed validation; ``ClientError/field`` names it.
        public static let validation = Code("validation")
        /// The email is already registered to a client (case-insensitive, trimmed).
        public static let duplicateEmail = Code("duplicate_email")
        /// The reseller does not exist or may not take clients.
        public static let invalidReseller = Code("invalid_reseller")
        /// The lifecycle action is not allowed from the client's current status.
        public static let statusTransitionDenied = Code("status_transition_denied")
        /// No client has this refid (or it is outside the caller's scope).
        public static let notFound = Code("not_found")
        /// The user does not exist in the user directory.
        public static let invalidUser = Code("invalid_user")
        /// The user is already bound to another client, or the client to another user.
        public static let alreadyBound = Code("already_bound")
        /// The client has no user bound.
        public static let notBound = Code("not_bound")
        /// Metadata broke a limit or held a secret-looking key outside the encrypted field.
        public static let invalidMetadata = Code("invalid_metadata")
        /// Secret metadata was given but no encryption key is configured, or the key is wrong.
        public static let encryption = Code("encryption")
        /// The configuration holds an unusable value.
        public static let invalidConfiguration = Code("invalid_configuration")
        /// A query argument (cursor, limit, date range) is unusable.
        public static let invalidQuery = Code("invalid_query")
    }

    /// What went wrong.
    public var code: Code
    /// The field at fault, for validation errors (`name`, `email`, `phone`, `metadata`…).
    public var field: String?
    /// The user-facing message.
    public var message: String
    /// Extra detail for logs only.
    public var detail: String?

    /// An error with `code`, a user-safe `message`, and optionally the field at fault and detail for logs.
    public init(_ code: Code, field: String? = nil, message: String, detail: String? = nil) {
        self.code = code
        self.field = field
        self.message = message
        self.detail = detail
    }


    /// The code, field, message and detail, for logs.
    public var debugDescription: String {
        "ClientError(\(code)\(field.map { ", field: \($0)" } ?? "")): \(message)\(detail.map { " — \($0)" } ?? "")"
    }

    static func invalid(_ field: String, _ reason: String) -> ClientError {
        ClientError(.validation, field: field, message: "Invalid \(field): \(reason)")
    }

    static let duplicateEmail = ClientError(.duplicateEmail, field: "email",
                                            message: "Duplicate Email: a client with this email already exists")

    static func invalidReseller(_ reason: String) -> ClientError {
        ClientError(.invalidReseller, field: "reseller", message: "Invalid Reseller: \(reason)")
    }

    static func transitionDenied(_ action: ClientTransition, from status: ClientStatus) -> ClientError {
        ClientError(.statusTransitionDenied,
                    message: "Status Transition Denied: cannot \(action) a client that is \(status)")
    }

    static func notFound(_ refid: String) -> ClientError {
        ClientError(.notFound, message: "Client Not Found: no client with refid \(refid.prefix(64))")
    }

    /// Not found by email: the email is not repeated (it is personal data).
    static let notFoundByEmail = ClientError(.notFound, message: "Client Not Found: no client with this email")
}
