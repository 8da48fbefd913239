public import Hummingbird
public import HummingbirdAuth

/// Reads `Authorization: Bearer <key>` and sets the context's identity to the key, when it is a
/// working one. A request with an unknown or revoked key is refused here with 401; one with no
/// key passes on, and the routes that need a key refuse it with 401 (health and the document
/// need none).
public struct APIKeyAuthenticator<Context: AuthRequestContext>: AuthenticatorMiddleware where Context.Identity == APIKey {
    let keys: APIKeys

    /// An authenticator over `keys`.
    public init(keys: APIKeys) { self.keys = keys }

    /// The key the request carries, if it works.
    public func authenticate(request: Request, context: Context) async throws -> APIKey? {
        guard let bearer = request.headers.bearer else { return nil }
        guard let key = try await keys.authenticate(bearer.token) else {
            throw Problem(.unauthorized, code: "unauthorized", detail: "Unknown or revoked API key")
        }
        return key
    }
}

extension AuthRequestContext where Identity == APIKey {
    /// The request's API key; 401 when it has none.
    public func apiKey() throws -> APIKey {
        guard let identity else {
            throw Problem(.unauthorized, code: "unauthorized", detail: "Missing API key: send Authorization: Bearer <key>")
        }
        return identity
    }

    /// The request's key, which must be an admin key: any other reaches no such route (404).
    public func adminKey() throws -> APIKey {
        let key = try apiKey()
        guard key.role == .admin else { throw Problem.noRoute }
        return key
    }
}
