public import Crypto
public import Foundation
import Logging
public import SuiteCore
public import SuiteStorage

/// A webhook as it travels: the exact body bytes and the signature header that covers them.
public struct WebhookDelivery: Hashable, Sendable {
    /// The JSON body, byte for byte as signed.
    public var body: Data
    /// The value of the ``WebhookSigner/headerName`` header: `t=<unix seconds>,v1=<hex HMAC-SHA256>`.
    public var signature: String

    /// A delivery of `body` with its `signature` header.
    public init(body: Data, signature: String) {
        self.body = body
        self.signature = signature
    }
}

/// Signs and verifies webhook bodies with HMAC-SHA256 over `"<timestamp>.<body>"`, the scheme
/// Stripe uses, so the timestamp cannot be changed without breaking the signature.
///
/// The header is `t=1764000000,v1=5257a869…`; several `v1=` values may be present (while a secret
/// rotates) and one matching is enough. Comparison is constant-time
/// (`HMAC.isValidAuthenticationCode`), and a timestamp further than ``tolerance`` from now —
/// in either direction — is rejected, so a captured delivery cannot be replayed later.
public struct WebhookSigner: Sendable {
    /// The HTTP header a delivery's signature travels in.
    public static let headerName = "Wave-Signature"

    private let key: SymmetricKey
    /// How far a delivery's timestamp may be from the receiver's clock, in seconds (default 300).
    public let tolerance: Int64

    /// A signer with `secret`, accepting timestamps within `tolerance` seconds (1…86400) of now.
    /// Throws `.validation` otherwise.
    /// - Parameter secret: the shared secret, at least 16 bytes.
    public init(secret: Data, tolerance: Int64 = 300) throws {
        guard secret.count >= 16 else { throw WaveError.invalid("webhook secret", "at least 16 bytes") }
        guard (1...86_400).contains(tolerance) else { throw WaveError.invalid("webhook tolerance", "1–86,400 seconds") }
        self.key = SymmetricKey(data: secret)
        self.tolerance = tolerance
    }

    /// The signature header for `body` signed at `timestamp` (Unix seconds).
    public func sign(_ body: Data, at timestamp: Int64) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Self.signedPayload(body, timestamp), using: key)
        return "t=\(timestamp),v1=\(lowercaseHex(mac))"
    }

    /// Throws `.invalidSignature` unless one `v1` value is the body's HMAC, and `.staleWebhook`
    /// when the signed timestamp is more than ``tolerance`` seconds from `now` (Unix seconds).
    public func verify(_ body: Data, signature header: String, now: Int64) throws {
        var timestamp: Int64?
        var candidates: [Data] = []
        for part in header.split(separator: ",", maxSplits: 16) {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { continue }
            switch pair[0] {
            case "t": timestamp = Int64(pair[1])
            case "v1": if let mac = Self.hexBytes(pair[1]), mac.count == SHA256.byteCount { candidates.append(mac) }
            default: continue
            }
        }
        guard let timestamp, !candidates.isEmpty else {
            throw WaveError(.invalidSignature, message: "Invalid Signature: the \(Self.headerName) header has no timestamp or no v1 signature")
        }
        let payload = Self.signedPayload(body, timestamp)
        guard candidates.contains(where: { HMAC<SHA256>.isValidAuthenticationCode($0, authenticating: payload, using: key) }) else {
            throw WaveError(.invalidSignature, message: "Invalid Signature: the webhook body does not match its signature")
        }
        let (skew, overflow) = now.subtractingReportingOverflow(timestamp)
        guard !overflow, skew.magnitude <= UInt64(tolerance) else {
            throw WaveError(.staleWebhook, message: "Stale Webhook: signed at \(timestamp), \(overflow ? "far" : "\(skew.magnitude) s") from now (tolerance \(tolerance) s)")
        }
    }

    static func signedPayload(_ body: Data, _ timestamp: Int64) -> Data {
        var payload = Data("\(timestamp).".utf8)
        payload.append(body)
        return payload
    }

    static func hexBytes(_ text: String) -> Data? {
        let scalars = Array(text.utf8)
        guard scalars.count % 2 == 0 else { return nil }
        var bytes = Data(capacity: scalars.count / 2)
        var index = 0
        while index < scalars.count {
            guard let high = nibble(scalars[index]), let low = nibble(scalars[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// The body of a checkout webhook (JSON, snake_case keys).
public struct CheckoutWebhookEvent: Hashable, Sendable, Codable {
    /// The one event type Wave acts on.
    public static let sessionCompleted = "checkout.session.completed"

    /// Unique per event: a redelivery carries the same id and changes nothing.
    public var id: String
    /// The event type, e.g. ``sessionCompleted``; other types are ignored.
    public var type: String
    /// When the gateway produced this delivery of the event (Unix seconds).
    public var created: Int64
    /// What the event is about.
    public var data: Payload

    /// The completed checkout: which session paid which invoice, and how much.
    public struct Payload: Hashable, Sendable, Codable {
        /// The checkout session's id (`CS-…`).
        public var session: String
        /// The refid of the invoice the session paid (`IN-…`).
        public var invoice: String
        /// The amount paid, in minor units; must equal the session's.
        public var amount: Int64
        /// The ISO 4217 currency code; must equal the session's.
        public var currency: String

        /// A payload naming `session`, `invoice`, `amount` (minor units) and `currency`.
        public init(session: String, invoice: String, amount: Int64, currency: String) {
            self.session = session
            self.invoice = invoice
            self.amount = amount
            self.currency = currency
        }
    }

    /// An event with `id`, `type`, `created` (Unix seconds) and `data`.
    public init(id: String, type: String, created: Int64, data: Payload) {
        self.id = id
        self.type = type
        self.created = created
        self.data = data
    }
}

/// What receiving a webhook did.
///
/// In JSON: `{"outcome": "paid" or "already_paid", "payment": {…}}`, `{"outcome": "duplicate",
/// "event": "EV-…"}` or `{"outcome": "ignored", "type": "…"}`.
public enum WebhookOutcome: Hashable, Sendable, Encodable {
    /// This delivery paid the invoice (``InvoicePaid`` is published after commit).
    case paid(Payment)
    /// The invoice had already been paid (by the wallet, by hand, or by another event); this
    /// event is recorded and nothing else changes.
    case alreadyPaid(Payment)
    /// This event id was received before: nothing written.
    case duplicate(eventID: String)
    /// A verified event of a type Wave does not act on: nothing written.
    case ignored(type: String)

    private enum CodingKeys: String, CodingKey { case outcome, payment, event, type }

    /// Encodes the outcome as `{"outcome": …}` plus its payload (see the type's description).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .paid(let payment):
            try container.encode("paid", forKey: .outcome)
            try container.encode(payment, forKey: .payment)
        case .alreadyPaid(let payment):
            try container.encode("already_paid", forKey: .outcome)
            try container.encode(payment, forKey: .payment)
        case .duplicate(let eventID):
            try container.encode("duplicate", forKey: .outcome)
            try container.encode(eventID, forKey: .event)
        case .ignored(let type):
            try container.encode("ignored", forKey: .outcome)
            try container.encode(type, forKey: .type)
        }
    }

    /// The payment, when the invoice is paid.
    public var payment: Payment? {
        switch self {
        case .paid(let payment), .alreadyPaid(let payment): payment
        case .duplicate, .ignored: nil
        }
    }
}

/// The receiving end of checkout webhooks: verifies the signature and timestamp, de-duplicates by
/// event id, and marks the invoice paid exactly once.
///
/// ```swift
/// let webhooks = CheckoutWebhooks(invoices: invoices, signer: try WebhookSigner(secret: secret))
/// // in your HTTP handler:
/// let outcome = try await webhooks.receive(body: request.body, signature: request.headers["Wave-Signature"])
/// ```
///
/// Receiving is one write transaction: record the event id (its primary key makes a concurrent
/// redelivery wait, then find it), find the checkout session (an unknown session, or one whose
/// invoice, amount or currency differ from the event's, is rejected and nothing is written),
/// complete it, lock the invoice, and pay it with a version compare-and-set — method `checkout`,
/// reference the session id, audited, ``InvoicePaid`` after commit, and the ``Invoices/fulfilment``
/// hook inside the same transaction. A rejected webhook throws a ``WaveError``
/// (`.invalidSignature`, `.staleWebhook`, `.invalidWebhook`, `.notFound`) and writes nothing; a
/// gateway retries a delivery that did not get a success reply.
public struct CheckoutWebhooks: Sendable {
    /// The invoices the webhooks pay.
    public let invoices: Invoices
    /// Verifies each delivery's signature and timestamp.
    public let signer: WebhookSigner

    /// A receiver that pays `invoices` for deliveries `signer` accepts.
    public init(invoices: Invoices, signer: WebhookSigner) {
        self.invoices = invoices
        self.signer = signer
    }

    /// Verifies and applies one delivery.
    @discardableResult
    public func receive(_ delivery: WebhookDelivery, actor: String = "gateway") async throws -> WebhookOutcome {
        try await receive(body: delivery.body, signature: delivery.signature, actor: actor)
    }

    /// Verifies and applies one delivery: `body` exactly as received, `signature` the
    /// ``WebhookSigner/headerName`` header (nil when missing).
    @discardableResult
    public func receive(body: Data, signature: String?, actor: String = "gateway") async throws -> WebhookOutcome {
        let actor = try WaveValidation.text(actor, field: "actor", maximum: 255)
        guard let signature, !signature.isEmpty else {
            throw WaveError(.invalidSignature, message: "Invalid Signature: the \(WebhookSigner.headerName) header is missing")
        }
        guard body.count <= 65_536 else { throw WaveError(.invalidWebhook, message: "Invalid Webhook: the body is larger than 64 KiB") }
        let now = Int64((invoices.clock.now().timeIntervalSince1970).rounded(.down))
        try signer.verify(body, signature: signature, now: now)
        let event: CheckoutWebhookEvent
        do {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            event = try decoder.decode(CheckoutWebhookEvent.self, from: body)
        } catch {
            throw WaveError(.invalidWebhook, message: "Invalid Webhook: the body is not a checkout event")
        }
        guard (1...200).contains(event.id.count) else { throw WaveError(.invalidWebhook, message: "Invalid Webhook: the event id must have 1–200 characters") }
        guard event.type == CheckoutWebhookEvent.sessionCompleted else { return .ignored(type: String(event.type.prefix(100))) }
        guard (1...64).contains(event.data.session.count), (1...64).contains(event.data.invoice.count) else {
            throw WaveError(.invalidWebhook, message: "Invalid Webhook: the session or invoice id is malformed")
        }
        let session = Refid(rawValue: event.data.session), invoice = Refid(rawValue: event.data.invoice)
        // A concurrent delivery of this event may commit first: the second run finds its row.
        return try await invoices.database.writeResolvingRace { tx in
            try self.apply(event, session: session, invoice: invoice, actor: actor, in: tx)
        }
    }

    private func apply(_ event: CheckoutWebhookEvent, session: Refid, invoice refid: Refid, actor: String,
                       in tx: any Transaction) throws -> WebhookOutcome {
        if try tx.queryFirst("SELECT outcome FROM wave_webhook_events WHERE event_id = \(event.id)") != nil {
            return .duplicate(eventID: event.id)
        }
        let now = Timestamp(invoices.clock.now())
        guard let row = try tx.queryFirst("""
            SELECT id, invoice_refid, amount, currency, status FROM wave_checkout_sessions WHERE refid = \(session)
            """) else {
            throw WaveError(.notFound, message: "Checkout Session Not Found: no session with this id")
        }
        guard try row.string("invoice_refid") == refid.rawValue, try row.int64("amount") == event.data.amount,
              try row.string("currency") == event.data.currency else {
            throw WaveError(.invalidWebhook, message: "Invalid Webhook: the event's invoice, amount or currency differ from its checkout session")
        }
        if try row.string("status") != CheckoutSessionStatus.completed.rawValue {
            try tx.execute("""
                UPDATE wave_checkout_sessions SET status = 'completed', updated_at = \(now) WHERE id = \(try row.int64("id"))
                """)
        }
        let payment = try invoices.payFromCheckout(refid, session: session.rawValue, actor: actor, in: tx)
        try tx.execute("""
            INSERT INTO wave_webhook_events (event_id, type, session_refid, invoice_refid, outcome, received_at)
            VALUES (\(event.id), \(event.type), \(session), \(refid), \(payment.isNew ? "paid" : "already_paid"), \(now))
            """)
        return payment.isNew ? .paid(payment) : .alreadyPaid(payment)
    }
}
