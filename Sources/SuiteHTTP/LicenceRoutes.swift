public import Forge
public import Hummingbird
public import HummingbirdAuth
import SuiteCore
import SuiteStorage

/// The Forge module over HTTP, under `/v1/licences`: mint, read, list, activate, revoke, renew,
/// the audit trail, and verification.
/// - An admin key reaches every route.
/// - A reseller key reads its reseller's licences (list, read, history); any other licence is
///   "Licence Not Found", exactly like a refid that does not exist. Its licences are minted by
///   provisioning, not here.
/// - A verify key reaches `POST /v1/licences/verify` only: the call an app in the field makes.
/// - Every key reads the public key set, `GET /v1/licences/keys`, which verifies signed tokens
///   offline; an admin key signs an active licence into a token when the server has a signing key.
public struct LicenceRoutes<Context: AuthRequestContext>: Sendable where Context.Identity == APIKey {
    let licences: Licences
    let signing: LicenceSigningKey?
    /// The JSON of recent verification answers: an app asks about the same key again and again,
    /// and encoding the answer costs more than the (usually cached) verification itself.
    let verifications = RememberedFacts<LicenceVerification, ByteBuffer>(capacity: 2_000)

    /// Routes over `licences`; tokens are signed with `signing` (none: the token route answers 503).
    public init(licences: Licences, signing: LicenceSigningKey? = nil) {
        self.licences = licences
        self.signing = signing
    }

    /// The endpoints, as openapi.yaml lists them.
    public static var endpoints: [Endpoint] {
        [Endpoint(.post, "/v1/licences"), Endpoint(.get, "/v1/licences"), Endpoint(.post, "/v1/licences/verify"),
         Endpoint(.get, "/v1/licences/{refid}"), Endpoint(.get, "/v1/licences/{refid}/history"),
         Endpoint(.post, "/v1/licences/{refid}/activate"), Endpoint(.post, "/v1/licences/{refid}/revoke"),
         Endpoint(.post, "/v1/licences/{refid}/renew"), Endpoint(.get, "/v1/licences/keys"),
         Endpoint(.post, "/v1/licences/{refid}/token")]
    }

    /// The routes, relative to `/v1/licences`.
    public var collection: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        let licences = licences, signing = signing, verifications = verifications
        routes.get("keys") { _, context in
            _ = try context.apiKey()
            return try Response.json(KeySet(keys: signing.map { [$0.publicKey] } ?? []))
        }
        routes.post(":refid/token") { request, context in
            _ = try context.adminKey()
            let body = try await request.decode(TokenRequest.self)
            guard let signing else {
                throw Problem(.serviceUnavailable, code: "signing_not_configured",
                              detail: "This server has no signing key: start it with dock serve --signing-key FILE")
            }
            if let days = body.validForDays, !(1...Licences.maximumDays).contains(days) {
                throw Problem(.unprocessableContent, code: "validation", detail: "Invalid valid_for_days: use 1…\(Licences.maximumDays)")
            }
            let licence = try await licences.find(context.parameters.refid("refid"))
            let token = try LicenceSigner(key: signing).sign(licence, validFor: body.validForDays.map { .seconds($0 * 86_400) })
            return try Response.json(SignedToken(licence: licence.refid, keyID: signing.id, token: token))
        }
        routes.post { request, context in
            let key = try context.adminKey()
            let body = try await request.decode(NewLicence.self)
            var builder = licences.make().product(body.product).client(body.client.map { Refid(rawValue: $0) }).metadata(body.metadata ?? [:])
            if body.lifetime == true { builder = builder.lifetime() } else if let days = body.days { builder = builder.days(days) }
            return try Response.json(try await builder.mint(actor: key.actor), status: .created)
        }
        routes.get { request, context in
            let key = try context.apiKey()
            let (limit, after) = try request.page()
            var query = licences.query().limit(limit).after(after)
            switch key.role {
            case .admin: if let reseller = request.query("reseller") { query = query.forReseller(Refid(rawValue: reseller)) }
            case .reseller(let own): query = query.forReseller(own)
            case .verify: throw Problem.noRoute
            }
            if let client = request.query("client") { query = query.forClient(Refid(rawValue: client)) }
            if let product = request.query("product") { query = query.product(product) }
            switch request.query("status") {
            case nil: break
            case "active"?: query = query.active()
            case "pending"?: query = query.pending()
            case "expired"?: query = query.expired()
            case "revoked"?: query = query.revoked()
            default: throw Problem(.unprocessableContent, code: "validation", detail: "Invalid status: use pending, active, expired, revoked")
            }
            return try Response.json(try await query.fetch())
        }
        routes.post("verify") { request, context in
            let key = try context.apiKey()
            if case .reseller = key.role { throw Problem.noRoute }
            let body = try await request.decode(Verify.self)
            return try Response.json(try await licences.verify(body.key), remembering: verifications)
        }
        routes.get(":refid") { _, context in
            try Response.json(try await Self.visible(context.parameters.refid("refid"), to: try context.apiKey(), in: licences))
        }
        routes.get(":refid/history") { request, context in
            let licence = try await Self.visible(context.parameters.refid("refid"), to: try context.apiKey(), in: licences)
            let (limit, _) = try request.page()
            return try Response.json(Items(items: try await licences.auditTrail(of: licence.refid, limit: limit)))
        }
        routes.post(":refid/activate") { request, context in
            let key = try context.adminKey()
            let body = try await request.decode(Activation.self)
            return try Response.json(try await licences.activate(context.parameters.refid("refid"), for: Refid(rawValue: body.client),
                                                                 actor: key.actor))
        }
        routes.post(":refid/revoke") { request, context in
            let key = try context.adminKey()
            let body = try await request.decode(Reason.self)
            return try Response.json(try await licences.revoke(context.parameters.refid("refid"), actor: key.actor, reason: body.reason))
        }
        routes.post(":refid/renew") { request, context in
            let key = try context.adminKey()
            let body = try await request.decode(Renewal.self)
            return try Response.json(try await licences.renew(context.parameters.refid("refid"), days: body.days, actor: key.actor))
        }
        return routes
    }

    /// The licence if `key` may see it; otherwise the same answer as for a refid that does not exist.
    static func visible(_ refid: Refid, to key: APIKey, in licences: Licences) async throws -> Licence {
        switch key.role {
        case .admin: return try await licences.find(refid)
        case .verify: throw Problem.noRoute
        case .reseller(let own):
            guard let licence = try await licences.findByRefid(refid), licence.reseller == own else {
                throw Problem(.notFound, code: "not_found", detail: "Licence Not Found: no licence with this refid")
            }
            return licence
        }
    }
}

/// The body of `POST /v1/licences`.
struct NewLicence: Decodable {
    var product: String
    var days: Int?
    var lifetime: Bool?
    var client: String?
    var metadata: Metadata?
}

/// The body of `POST /v1/licences/verify`.
struct Verify: Decodable {
    var key: String
}

/// The body of `POST /v1/licences/{refid}/activate`.
struct Activation: Decodable {
    var client: String
}

/// The body of `POST /v1/licences/{refid}/renew`.
struct Renewal: Decodable {
    var days: Int
}

/// `GET /v1/licences/keys`: the public keys that verify this server's tokens.
struct KeySet: Encodable {
    var keys: [LicencePublicKey]
}

/// The body of `POST /v1/licences/{refid}/token`.
struct TokenRequest: Decodable {
    var validForDays: Int?
}

/// A signed licence token.
struct SignedToken: Encodable {
    var licence: Refid
    var keyID: String
    var token: String
}
