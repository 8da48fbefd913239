import Crypto
import Foundation
public import Hummingbird
public import HummingbirdAuth
public import Suite
import SuiteCore
import SuiteStorage
import Wallet
public import Wave

/// The Wave module over HTTP, under `/v1`: products, plans, invoices and their payment, client
/// wallets and subscriptions — what `dock wave` does. Billing is an operator's work: every route
/// needs an admin key, and any other key finds no such route (404). Money is in integer minor
/// units of the ISO 4217 currency beside it.
///
/// ```swift
/// router.addRoutes(BillingRoutes<BasicAuthRequestContext<APIKey>>(invoices: invoices, products: products,
///                                                                subscriptions: subscriptions).collection, atPath: "/v1")
/// ```
public struct BillingRoutes<Context: AuthRequestContext>: Sendable where Context.Identity == APIKey {
    let invoices: Invoices
    let products: Products
    let subscriptions: Subscriptions
    let fulfilment: SuiteFulfilment?
    let gateway: LocalCheckoutGateway?

    /// Routes over `invoices`, `products` and `subscriptions`. With `fulfilment` (the suite's), a
    /// payment answers the licences it issued; with `gateway`, an invoice lists its checkout sessions.
    public init(invoices: Invoices, products: Products, subscriptions: Subscriptions, fulfilment: SuiteFulfilment? = nil,
                gateway: LocalCheckoutGateway? = nil) {
        self.invoices = invoices
        self.products = products
        self.subscriptions = subscriptions
        self.fulfilment = fulfilment
        self.gateway = gateway
    }

    /// The endpoints, as openapi.yaml lists them.
    public static var endpoints: [Endpoint] {
        [Endpoint(.post, "/v1/products"), Endpoint(.get, "/v1/products"), Endpoint(.get, "/v1/products/{refid}"),
         Endpoint(.post, "/v1/products/{refid}/deactivate"),
         Endpoint(.post, "/v1/plans"), Endpoint(.get, "/v1/plans"), Endpoint(.get, "/v1/plans/{refid}"),
         Endpoint(.post, "/v1/plans/{refid}/deactivate"),
         Endpoint(.post, "/v1/invoices"), Endpoint(.get, "/v1/invoices"), Endpoint(.get, "/v1/invoices/{refid}"),
         Endpoint(.get, "/v1/invoices/{refid}/history"), Endpoint(.get, "/v1/invoices/{refid}/sessions"),
         Endpoint(.post, "/v1/invoices/{refid}/pay"), Endpoint(.post, "/v1/invoices/{refid}/void"),
         Endpoint(.post, "/v1/invoices/{refid}/uncollectible"), Endpoint(.post, "/v1/invoices/{refid}/mark-paid"),
         Endpoint(.get, "/v1/wallets/{client}/{currency}"), Endpoint(.get, "/v1/wallets/{client}/{currency}/history"),
         Endpoint(.post, "/v1/wallets/{client}/{currency}/topup"),
         Endpoint(.post, "/v1/subscriptions"), Endpoint(.get, "/v1/subscriptions"), Endpoint(.post, "/v1/subscriptions/renew"),
         Endpoint(.get, "/v1/subscriptions/{refid}"), Endpoint(.get, "/v1/subscriptions/{refid}/history"),
         Endpoint(.post, "/v1/subscriptions/{refid}/cancel")]
    }

    /// The routes, relative to `/v1`.
    public var collection: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        addProducts(to: routes)
        addInvoices(to: routes)
        addWallets(to: routes)
        addSubscriptions(to: routes)
        return routes
    }

    private func addProducts(to routes: RouteCollection<Context>) {
        let products = products, plans = subscriptions.plans
        routes.post("products") { request, context in
            let key = try context.adminKey()
            let body = try await request.decode(NewProduct.self)
            let product = try await products.create(name: body.name, slug: body.slug, price: body.price, currency: body.currency,
                                                    licenceDays: body.licenceDays, actor: key.actor)
            return try Response.json(product, status: .created)
        }
        routes.get("products") { request, context in
            _ = try context.adminKey()
            let (limit, after) = try request.page()
            return try Response.json(try await products.list(limit: limit, after: after))
        }
        routes.get("products/:refid") { _, context in
            _ = try context.adminKey()
            return try Response.json(try await products.find(refidOrSlug: context.parameters.text("refid")))
        }
        routes.post("products/:refid/deactivate") { _, context in
            let key = try context.adminKey()
            let product = try await products.find(refidOrSlug: context.parameters.text("refid"))
            return try Response.json(try await products.deactivate(product.refid, actor: key.actor))
        }
        routes.post("plans") { request, context in
            let key = try context.adminKey()
            let body = try await request.decode(NewPlan.self)
            guard let interval = BillingInterval(rawValue: body.interval) else {
                throw Problem(.unprocessableContent, code: "validation",
                              detail: "Invalid interval: use \(BillingInterval.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let plan = try await plans.create(name: body.name, slug: body.slug, price: body.price, currency: body.currency,
                                              interval: interval, actor: key.actor)
            return try Response.json(plan, status: .created)
        }
        routes.get("plans") { request, context in
            _ = try context.adminKey()
            let (limit, after) = try request.page()
            return try Response.json(try await plans.list(limit: limit, after: after))
        }
        routes.get("plans/:refid") { _, context in
            _ = try context.adminKey()
            return try Response.json(try await plans.find(refidOrSlug: context.parameters.text("refid")))
        }
        routes.post("plans/:refid/deactivate") { _, context in
            let key = try context.adminKey()
            let plan = try await plans.find(refidOrSlug: context.parameters.text("refid"))
            return try Response.json(try await plans.deactivate(plan.refid, actor: key.actor))
        }
    }

    private func addInvoices(to routes: RouteCollection<Context>) {
        let invoices = invoices, fulfilment = fulfilment, gateway = gateway
        routes.post("invoices") { request, context in
            let key = try context.adminKey()
            let body = try await request.decode(NewInvoice.self)
            var builder = invoices.make().for(Refid(rawValue: body.client)).currency(body.currency).due(inDays: body.dueDays ?? 0)
            if let description = body.description { builder = builder.description(description) }
            let lines = body.lines ?? []
            guard (body.amount == nil) != lines.isEmpty else {
                throw Problem(.unprocessableContent, code: "validation", detail: "Give amount, or at least one line, not both")
            }
            if let amount = body.amount { builder = builder.amount(amount) }
            for line in lines {
                builder = builder.line(line.description, amount: line.amount, quantity: line.quantity ?? 1, product: line.product)
            }
            return try Response.json(try await builder.create(actor: key.actor), status: .created)
        }
        routes.get("invoices") { request, context in
            _ = try context.adminKey()
            let (limit, after) = try request.page()
            if let client = request.query("client") {
                return try Response.json(try await invoices.getByClient(Refid(rawValue: client), limit: limit, after: after))
            }
            return try Response.json(try await invoices.list(limit: limit, after: after))
        }
        routes.get("invoices/:refid") { _, context in
            _ = try context.adminKey()
            return try Response.json(try await invoices.find(refidOrNumber: context.parameters.text("refid")))
        }
        routes.get("invoices/:refid/history") { _, context in
            _ = try context.adminKey()
            let invoice = try await invoices.find(refidOrNumber: context.parameters.text("refid"))
            return try Response.json(Items(items: try await invoices.auditTrail(of: invoice.refid)))
        }
        routes.get("invoices/:refid/sessions") { _, context in
            _ = try context.adminKey()
            let invoice = try await invoices.find(refidOrNumber: context.parameters.text("refid"))
            return try Response.json(Items(items: try await gateway?.sessions(for: invoice.refid) ?? []))
        }
        // The client's wallet first, else a checkout session; 200 when paid, 202 when the client
        // must pay at the session's URL, 402 when the payment failed. Safe to retry with a key.
        routes.post("invoices/:refid/pay") { request, context in
            let key = try context.adminKey()
            let body = try await request.decode(PayInvoice.self)
            let invoice = try await invoices.find(refidOrNumber: context.parameters.text("refid"))
            let payer = body.walletOnly == true ? invoices.walletOnly() : invoices
            let outcome = try await payer.attemptPayment(invoice.refid, idempotencyKey: request.headers[.idempotencyKey], actor: key.actor)
            let issued = outcome.isPaid ? fulfilment?.takeIssued(for: invoice.refid) ?? [] : []
            return try Response.json(Merged(outcome, PaidInvoice(invoice, licences: issued)), status: outcome.status)
        }
        routes.post("invoices/:refid/void") { request, context in
            let key = try context.adminKey()
            let body = try await request.decode(Reason.self)
            let invoice = try await invoices.find(refidOrNumber: context.parameters.text("refid"))
            return try Response.json(try await invoices.void(invoice.refid, actor: key.actor, reason: body.reason))
        }
        routes.post("invoices/:refid/uncollectible") { request, context in
            let key = try context.adminKey()
            let body = try await request.decode(Reason.self)
            let invoice = try await invoices.find(refidOrNumber: context.parameters.text("refid"))
            return try Response.json(try await invoices.markUncollectible(invoice.refid, actor: key.actor, reason: body.reason))
        }
        routes.post("invoices/:refid/mark-paid") { request, context in
            let key = try context.adminKey()
            let body = try await request.decode(OutsidePayment.self)
            let invoice = try await invoices.find(refidOrNumber: context.parameters.text("refid"))
            let payment = try await invoices.markAsPaid(invoice.refid, driver: body.driver, transactionId: body.transactionID, actor: key.actor)
            return try Response.json(Merged(PaymentOutcome.paid(payment), PaidInvoice(invoice)))
        }
    }

    private func addWallets(to routes: RouteCollection<Context>) {
        let invoices = invoices
        routes.get("wallets/:client/:currency") { _, context in
            _ = try context.adminKey()
            let wallet = try await invoices.wallet(of: context.parameters.refid("client"), currency: context.parameters.text("currency"))
            return try Response.json(Merged(wallet, AvailableFunds(wallet)))
        }
        routes.get("wallets/:client/:currency/history") { request, context in
            _ = try context.adminKey()
            let (limit, after) = try request.page()
            let wallet = try await invoices.wallet(of: context.parameters.refid("client"), currency: context.parameters.text("currency"))
            return try Response.json(try await invoices.ledger.history(of: wallet.refid, limit: limit, after: after))
        }
        routes.post("wallets/:client/:currency/topup") { request, context in
            let key = try context.adminKey()
            let body = try await request.decode(Credits.self)
            let transfer = try await invoices.topUp(context.parameters.refid("client"), amount: body.amount,
                                                    currency: context.parameters.text("currency"),
                                                    idempotencyKey: request.headers[.idempotencyKey].map { Self.ledgerKey(key, $0) },
                                                    actor: key.actor)
            return try Response.json(transfer, status: .created)
        }
    }

    private func addSubscriptions(to routes: RouteCollection<Context>) {
        let subscriptions = subscriptions
        routes.post("subscriptions") { request, context in
            let key = try context.adminKey()
            let body = try await request.decode(NewSubscription.self)
            let plan = try await subscriptions.plans.find(refidOrSlug: body.plan)
            let started = try await subscriptions.start(client: Refid(rawValue: body.client), plan: plan.refid,
                                                        trialDays: body.trialDays ?? 0, actor: key.actor)
            return try Response.json(started, status: started.payment?.createdStatus ?? .created)
        }
        routes.get("subscriptions") { request, context in
            _ = try context.adminKey()
            let (limit, after) = try request.page()
            if let client = request.query("client") {
                return try Response.json(try await subscriptions.getByClient(Refid(rawValue: client), limit: limit, after: after))
            }
            return try Response.json(try await subscriptions.list(limit: limit, after: after))
        }
        // What the renewal service does each tick, once: invoice the due subscriptions and attempt payment.
        routes.post("subscriptions/renew") { request, context in
            let key = try context.adminKey()
            let body = try await request.decode(RenewalRun.self)
            return try Response.json(try await subscriptions.renewDue(limit: body.limit ?? 500, actor: key.actor))
        }
        routes.get("subscriptions/:refid") { _, context in
            _ = try context.adminKey()
            return try Response.json(try await subscriptions.find(context.parameters.refid("refid")))
        }
        routes.get("subscriptions/:refid/history") { _, context in
            _ = try context.adminKey()
            return try Response.json(Items(items: try await subscriptions.auditTrail(of: context.parameters.refid("refid"))))
        }
        routes.post("subscriptions/:refid/cancel") { request, context in
            let key = try context.adminKey()
            let body = try await request.decode(Cancellation.self)
            return try Response.json(try await subscriptions.cancel(context.parameters.refid("refid"), atPeriodEnd: body.now != true,
                                                                    actor: key.actor, reason: body.reason))
        }
    }
}

extension BillingRoutes {
    /// The ledger's idempotency key for an HTTP top-up: the API key's and the caller's key,
    /// hashed, so that two API keys never share one and any caller's key fits the ledger's rule.
    static func ledgerKey(_ key: APIKey, _ header: String) -> String {
        "http|" + SHA256.hash(data: Data("\(key.refid.rawValue)|\(header)".utf8)).withUnsafeBytes { lowercaseHex($0) }
    }
}

extension PaymentOutcome {
    /// The status a payment answers with: 200 paid, 202 when the client must act (pay at the
    /// checkout session's URL), 402 failed.
    var status: HTTPResponse.Status {
        switch self {
        case .paid: .ok
        case .requiresAction: .accepted
        case .failed: HTTPResponse.Status(code: 402, reasonPhrase: "Payment Required")
        }
    }

    /// The status of a request that created something and paid for it: 201 paid, else as ``status``.
    var createdStatus: HTTPResponse.Status { isPaid ? .created : status }
}

extension Parameters {
    /// The path parameter `name` as text (routes always declare it).
    func text(_ name: String) -> String { get(name) ?? "" }
}

/// The body of `POST /v1/products`.
struct NewProduct: Decodable {
    var name: String
    var slug: String
    var price: Int64
    var currency: String
    var licenceDays: Int?
}

/// The body of `POST /v1/plans`.
struct NewPlan: Decodable {
    var name: String
    var slug: String
    var price: Int64
    var currency: String
    var interval: String
}

/// The body of `POST /v1/invoices`: a single `amount`, or `lines`.
struct NewInvoice: Decodable {
    struct Line: Decodable {
        var description: String
        var amount: Int64
        var quantity: Int64?
        var product: String?
    }

    var client: String
    var currency: String
    var description: String?
    var amount: Int64?
    var lines: [Line]?
    var dueDays: Int?
}

/// The body of `POST /v1/invoices/{refid}/pay`.
struct PayInvoice: Decodable {
    var walletOnly: Bool?
}

/// The body of `POST /v1/invoices/{refid}/mark-paid`.
struct OutsidePayment: Decodable {
    var driver: String
    var transactionID: String

    // The suite's decoder turns `transaction_id` into `transactionId`, not `transactionID`.
    private enum CodingKeys: String, CodingKey { case driver, transactionID = "transactionId" }
}

/// The body of `POST /v1/subscriptions`.
struct NewSubscription: Decodable {
    var client: String
    var plan: String
    var trialDays: Int?
}

/// The body of `POST /v1/subscriptions/{refid}/cancel`.
struct Cancellation: Decodable {
    var now: Bool?
    var reason: String?
}

/// The body of `POST /v1/subscriptions/renew`.
struct RenewalRun: Decodable {
    var limit: Int?
}
