internal import AsyncHTTPClient
import Foundation
public import Hummingbird
public import HummingbirdAuth
import HTTPTypes
internal import NIOCore
internal import NIOHTTP1
import SuiteCore
public import Wave

/// The local gateway's hosted checkout page, under `/checkout`: the URL a purchase or a payment
/// attempt returns when the client's wallet cannot cover the invoice.
///
/// - `GET /checkout/{session}` shows the invoice's number, description and amount, and a Pay
///   button while the session is open.
/// - `POST /checkout/{session}/pay` stands for the customer paying: the session completes and the
///   gateway's signed webhook is delivered over HTTP to ``webhookURL`` (the server's own
///   `POST /v1/webhooks/checkout`), exactly as a hosted gateway would. The page then shows the
///   invoice paid. Pressing Pay again redelivers the same event, which the endpoint deduplicates.
///
/// The session id is the page's only credential, as with a hosted gateway's checkout link: it
/// needs no API key. HTML, not JSON: a browser is its client.
public struct CheckoutPage<Context: AuthRequestContext>: Sendable where Context.Identity == APIKey {
    let gateway: LocalCheckoutGateway
    let invoices: Invoices
    /// Where the page delivers the signed webhook when the customer pays.
    public let webhookURL: URL

    /// The page for `gateway`'s sessions, which delivers to `webhookURL`.
    public init(gateway: LocalCheckoutGateway, invoices: Invoices, webhookURL: URL) {
        self.gateway = gateway
        self.invoices = invoices
        self.webhookURL = webhookURL
    }

    /// The endpoints, as openapi.yaml lists them.
    public static var endpoints: [Endpoint] { [Endpoint(.get, "/checkout/{session}"), Endpoint(.post, "/checkout/{session}/pay")] }

    /// The routes, relative to `/checkout`.
    public var collection: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        let page = self
        routes.get(":session") { _, context in
            try await page.show(context.parameters.text("session"))
        }
        routes.post(":session/pay") { _, context in
            let id = context.parameters.text("session")
            let delivery: WebhookDelivery
            do {
                delivery = try await page.gateway.complete(id)
            } catch let error as WaveError {
                return Self.html(error.code == .notFound ? .notFound : .conflict,
                                 title: "Checkout", body: "<p id=\"error\">\(Self.escape(error.message))</p>")
            }
            guard await page.deliver(delivery) else {
                return Self.html(.badGateway, title: "Checkout", body: """
                    <p id="error">The payment went through, but the shop has not confirmed it yet. Press Pay again to resend the confirmation.</p>
                    <form method="post" action="/checkout/\(Self.escape(id))/pay"><button id="pay" type="submit">Pay</button></form>
                    """)
            }
            var headers = HTTPFields()
            headers[.location] = "/checkout/\(id)"
            return Response(status: .seeOther, headers: headers)
        }
        return routes
    }

    /// The page for session `id`.
    func show(_ id: String) async throws -> Response {
        guard let session = try await gateway.session(id) else {
            return Self.html(.notFound, title: "Checkout", body: "<p id=\"error\">No such checkout session.</p>")
        }
        let invoice = try await invoices.find(session.invoice)
        let amount = Self.money(session.amount, session.currency)
        var body = """
            <h1>\(Self.escape(invoice.number))</h1>
            <p id="description">\(Self.escape(invoice.description ?? invoice.lines.map(\.description).joined(separator: ", ")))</p>
            <p id="amount">\(Self.escape(amount))</p>

            """
        switch session.status {
        case .open:
            body += """
                <form method="post" action="/checkout/\(Self.escape(session.id))/pay"><button id="pay" type="submit">Pay \(Self.escape(amount))</button></form>
                """
        case .completed:
            body += invoice.status == .paid
                ? "<p id=\"status\">Paid</p><p>Thank you: your licence is on its way.</p>"
                : "<p id=\"status\">Payment received</p><p>The shop has not confirmed it yet. Press Pay to resend the confirmation.</p>"
                    + "<form method=\"post\" action=\"/checkout/\(Self.escape(session.id))/pay\"><button id=\"pay\" type=\"submit\">Pay</button></form>"
        case .expired:
            body += "<p id=\"status\">Expired</p><p>This checkout session has expired: ask for a new payment link.</p>"
        }
        return Self.html(.ok, title: "Pay \(invoice.number)", body: body)
    }

    /// Posts the signed event to ``webhookURL``; true when the endpoint accepted it (2xx).
    func deliver(_ delivery: WebhookDelivery) async -> Bool {
        var request = HTTPClientRequest(url: webhookURL.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: WebhookSigner.headerName, value: delivery.signature)
        request.body = .bytes(ByteBuffer(bytes: delivery.body))
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
            _ = try? await response.body.collect(upTo: 65_536)
            return (200..<300).contains(response.status.code)
        } catch {
            return false
        }
    }

    /// `amount` minor units of `currency` as a reader expects it: `19.00 USD`, `1900 JPY`.
    static func money(_ amount: Int64, _ currency: String) -> String {
        let exponent = ["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"]
            .contains(currency) ? 0 : 2
        guard exponent > 0 else { return "\(amount) \(currency)" }
        let magnitude = amount.magnitude
        let fraction = String(magnitude % 100)
        return "\(amount < 0 ? "-" : "")\(magnitude / 100).\(fraction.count == 1 ? "0" + fraction : fraction) \(currency)"
    }

    /// `text` safe inside HTML.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// A small HTML page.
    static func html(_ status: HTTPResponse.Status, title: String, body: String) -> Response {
        let page = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title))</title>
            <style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}#amount{font-size:2rem}
            button{font-size:1.2rem;padding:.6rem 1.6rem}#error{color:#a00}</style></head>
            <body>
            \(body)
            </body></html>

            """
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: page)))
    }
}
