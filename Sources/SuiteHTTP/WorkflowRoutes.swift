import Ally
import Foundation
public import Client
import HTTPTypes
public import Hummingbird
public import HummingbirdAuth
public import Suite
import SuiteCore
import SuiteStorage
import Wave

/// The suite's workflows over HTTP, under `/v1/workflows`. Both need an `Idempotency-Key`, which
/// is also the workflow's own key, so a retry replays the first result, licences and keys included.
/// - `provision`: a reseller provisions a product for its clients, paid with credits, all or
///   nothing. An admin key provisions for any reseller; a reseller key for its own only (naming
///   another is "Reseller Not Found", as for a refid that does not exist).
/// - `purchase` (admin keys): a standalone client, existing or new, buys a product: invoiced, then
///   paid from its wallet (201) or sent to a checkout page (202); its licence is issued when the
///   payment is confirmed.
/// - `history/{client}`: the client's activation and billing history (a reseller key: its own
///   clients only).
/// - A verify key reaches none.
public struct WorkflowRoutes<Context: AuthRequestContext>: Sendable where Context.Identity == APIKey {
    let workflows: Workflows
    let clients: Clients

    /// Routes over `workflows`; `clients` decides which clients a reseller key may see.
    public init(workflows: Workflows, clients: Clients) {
        self.workflows = workflows
        self.clients = clients
    }

    /// The endpoints, as openapi.yaml lists them.
    public static var endpoints: [Endpoint] {
        [Endpoint(.post, "/v1/workflows/provision"), Endpoint(.post, "/v1/workflows/purchase"),
         Endpoint(.get, "/v1/workflows/history/{client}")]
    }

    /// The endpoints that keep their `Idempotency-Key` answers in their own transactions
    /// (``IdempotentRequests/PendingAnswer``); give them to ``IdempotencyMiddleware``.
    public static var selfRecording: [Endpoint] { [Endpoint(.post, "/v1/workflows/provision")] }

    /// The routes, relative to `/v1/workflows`.
    public var collection: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        let workflows = workflows
        routes.post("provision") { request, context in
            let key = try context.apiKey()
            let body = try await request.decode(Provisioning.self)
            let reseller = Refid(rawValue: body.reseller)
            switch key.role {
            case .admin: break
            case .verify: throw Problem.noRoute
            case .reseller(let own):
                guard own == reseller else {
                    throw Problem(.notFound, code: "not_found", detail: "Reseller Not Found: no reseller with refid \(body.reseller.prefix(64))")
                }
            }
            guard let idempotencyKey = request.headers[.idempotencyKey] else {
                throw Problem(.badRequest, code: "validation", detail: "Missing Idempotency-Key: provisioning spends credits, so a retry must be safe")
            }
            // The answer to the Idempotency-Key is kept in the provisioning's own transaction: one
            // commit. A twin request with the same key fails its transaction on the workflow's own
            // key, and its rerun finds this answer.
            let pending = IdempotentRequests.PendingAnswer.current
            let clients = body.clients.map { Refid(rawValue: $0) }, product = body.product, actor = key.actor
            return try await workflows.database.writeResolvingRace(alsoRetrying: { error in
                (error as? AllyError)?.code == .insufficientCredits
            }) { tx -> Response in
                if let earlier = try pending?.stored(in: tx) { return earlier }
                let result = try workflows.provision(reseller: reseller, clients: clients, product: product, idempotencyKey: idempotencyKey,
                                                     actor: actor, in: tx)
                let json = String(decoding: try SuiteJSON.encoder().encode(result), as: UTF8.self)
                try pending?.record(status: 201, contentType: "application/json", body: json, in: tx)
                var headers = HTTPFields()
                headers[.contentType] = "application/json"
                return Response(status: .created, headers: headers, body: .init(byteBuffer: ByteBuffer(string: json)))
            }
        }
        routes.post("purchase") { request, context in
            let key = try context.adminKey()
            let body = try await request.decode(Purchase.self)
            let customer: Customer
            switch (body.client, body.name, body.email) {
            case (let client?, nil, nil): customer = .existing(Refid(rawValue: client))
            case (nil, let name?, let email?): customer = .new(name: name, email: email)
            default: throw Problem(.unprocessableContent, code: "validation", detail: "Give client, or name with email")
            }
            guard let idempotencyKey = request.headers[.idempotencyKey] else {
                throw Problem(.badRequest, code: "validation", detail: "Missing Idempotency-Key: a purchase invoices and takes money, so a retry must be safe")
            }
            let result = try await workflows.purchase(customer, product: body.product, idempotencyKey: idempotencyKey, actor: key.actor)
            return try Response.json(result, status: result.outcome.createdStatus)
        }
        routes.get("history/:client") { request, context in
            let key = try context.apiKey()
            let client = context.parameters.refid("client")
            switch key.role {
            case .admin: break
            case .verify: throw Problem.noRoute
            case .reseller(let own): _ = try await clients.portfolio(of: own).find(client)
            }
            var days = 30
            if let text = request.query("days") {
                guard let value = Int(text) else { throw Problem(.badRequest, code: "validation", detail: "Invalid days: use a whole number") }
                days = value
            }
            return try Response.json(try await workflows.history(of: client, days: days))
        }
        return routes
    }
}

/// The body of `POST /v1/workflows/purchase`: an existing standalone `client`, or a new one's `name` and `email`.
struct Purchase: Decodable {
    var client: String?
    var name: String?
    var email: String?
    var product: String
}

/// The body of `POST /v1/workflows/provision`.
struct Provisioning: Decodable {
    var reseller: String
    var clients: [String]
    var product: String
}
