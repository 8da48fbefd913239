import Foundation
public import Hummingbird
public import HummingbirdAuth
import HTTPTypes
import SuiteCore
public import Wave

/// The gateway's side of payment, under `/v1/webhooks`: `POST /v1/webhooks/checkout` receives a
/// checkout gateway's signed `checkout.session.completed` event and pays its invoice exactly once.
///
/// It needs no API key: the `Wave-Signature` header, an HMAC-SHA256 over the raw body and its
/// timestamp, is the proof. A missing or wrong signature, a tampered body or a timestamp more
/// than 300 s from now answers 400 and writes nothing, so the gateway retries. An event id seen
/// before answers 200 `duplicate` and changes nothing (gateways deliver at least once).
public struct WebhookRoutes<Context: AuthRequestContext>: Sendable where Context.Identity == APIKey {
    let invoices: Invoices
    let gateway: LocalCheckoutGateway
    let tolerance: Int64

    /// Routes that pay `invoices` for the events `gateway`'s secret signed, within `tolerance` seconds.
    public init(invoices: Invoices, gateway: LocalCheckoutGateway, tolerance: Int64 = 300) {
        self.invoices = invoices
        self.gateway = gateway
        self.tolerance = tolerance
    }

    /// The endpoints, as openapi.yaml lists them.
    public static var endpoints: [Endpoint] { [Endpoint(.post, "/v1/webhooks/checkout")] }

    /// The routes, relative to `/v1/webhooks`.
    public var collection: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        let invoices = invoices, gateway = gateway, tolerance = tolerance
        routes.post("checkout") { request, _ in
            // The signature covers the bytes as sent: read them raw, never re-encoded.
            let body = try await request.body.collect(upTo: 65_536)
            let webhooks = CheckoutWebhooks(invoices: invoices, signer: try await gateway.signer(tolerance: tolerance))
            let outcome = try await webhooks.receive(body: Data(body.readableBytesView),
                                                     signature: request.headers[HTTPField.Name(WebhookSigner.headerName)!])
            return try Response.json(outcome)
        }
        return routes
    }
}
